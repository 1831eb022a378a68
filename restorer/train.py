"""Training stage 2: LoRA SFT of Qwen-Image-Edit's transformer with the rectified-flow loss.

Each pair is (degraded → clean): the degraded image is the edit condition (its VAE
latents are appended to the sequence, and the text encoder sees it with the diagnosis
prompt), the clean image is the target. With ``x_t = (1 − σ)·x0 + σ·ε`` the transformer
learns the velocity ``ε − x0`` (MSE). Training σ is drawn directly from the configured
density (logit-normal by default, as SD3 and the diffusers Qwen-Image scripts do): the
scheduler's resolution-dependent shift (`use_dynamic_shifting`) belongs to inference.

Text embeddings and VAE latents are computed once, cached to disk, and reused; the
text encoder and VAE are then freed. The LoRA is saved in the diffusers format
(`QwenImageEditPipeline.load_lora_weights(output)` loads it, and so does
`QwenEditRestorer.from_pretrained(base, lora=output)`). Checkpoints resume; many GPUs:
``accelerate launch -m rnr.cli.train --stage restorer ...``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from restorer.prompts import Ablation
from restorer.qwen import encode_latents, working_size
from rnr.config import ConfigError, to_dict

LORA_TARGETS = ("to_k", "to_q", "to_v", "to_out.0")
CACHE_VERSION = 1


@dataclass(frozen=True)
class RestorerTrainConfig:
    """Stage 2 settings; presets in configs/restorer/."""

    model: str = ""  # a Qwen-Image-Edit folder or hub id
    data: str = ""  # an rnr-synth dataset (hf format)
    output: str = "runs/restorer"
    reasoner: str | None = None  # prompts from this reasoner's diagnoses instead of the records' ground truth
    max_steps: int = 1000
    learning_rate: float = 1e-4
    batch_size: int = 1
    gradient_accumulation: int = 1
    lora_r: int = 16
    lora_alpha: int = 16
    lora_targets: tuple[str, ...] = LORA_TARGETS
    max_pixels: int = 512 * 512  # the working resolution of training pairs
    weighting_scheme: str = "logit_normal"  # or "mode", "uniform" (diffusers' compute_density_for_timestep_sampling)
    logit_mean: float = 0.0
    logit_std: float = 1.0
    mode_scale: float = 1.29
    ablate_scores: bool = False  # Table 3 rows: train without this part of the diagnosis
    ablate_params: bool = False
    ablate_scene: bool = False
    no_reasoner: bool = False
    mixed_precision: str = "no"  # "bf16" on GPUs
    gradient_checkpointing: bool = False
    cache_dir: str | None = None  # default: OUTPUT/cache
    logging_steps: int = 10
    save_steps: int = 500
    limit: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.weighting_scheme not in ("logit_normal", "mode", "uniform"):
            raise ValueError(f"weighting_scheme must be logit_normal, mode or uniform, got {self.weighting_scheme!r}")
        if self.mixed_precision not in ("no", "bf16", "fp16"):
            raise ValueError(f"mixed_precision must be no, bf16 or fp16, got {self.mixed_precision!r}")
        if self.max_steps < 1 or self.batch_size < 1:
            raise ValueError("max_steps and batch_size must be at least 1")

    def check_ready(self) -> None:
        if not self.model:
            raise ConfigError("no model to train: pass --model (a Qwen-Image-Edit folder or hub id)")
        if not self.data:
            raise ConfigError("no data: pass --data DIR (an rnr-synth output)")

    @property
    def ablation(self) -> Ablation:
        return Ablation(
            reasoner=not self.no_reasoner, scores=not self.ablate_scores, params=not self.ablate_params, scene=not self.ablate_scene
        )


# --- the cache -----------------------------------------------------------------------
def _cache_key(config: RestorerTrainConfig, count: int) -> str:
    what = {
        "version": CACHE_VERSION,
        "model": config.model,
        "data": str(Path(config.data).resolve()),
        "reasoner": config.reasoner,
        "max_pixels": config.max_pixels,
        "ablation": dataclasses.asdict(config.ablation),
        "count": count,
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


def build_cache(config: RestorerTrainConfig, pipeline, dataset, cache: Path) -> list[Path]:
    """Encode every pair once: prompt embeddings (with the degraded image), clean and degraded latents."""
    import torch
    from tqdm import tqdm

    from rnr.diagnosis import Diagnosis
    from rnr.imageio import atomic_write_bytes

    key = _cache_key(config, len(dataset))
    marker = cache / "cache.json"
    files = [cache / f"{index:07d}.pt" for index in range(len(dataset))]
    if marker.is_file() and json.loads(marker.read_text()).get("key") == key and all(f.is_file() for f in files):
        return files
    if cache.exists():
        shutil.rmtree(cache)  # made for another model, data or prompt: rebuild
    cache.mkdir(parents=True)
    if config.reasoner:
        from reasoner.qwen import QwenReasoner

        diagnoses = QwenReasoner.from_pretrained(config.reasoner).diagnose(dataset["degraded"])
    else:
        diagnoses = [Diagnosis.from_record(json.loads(text)) for text in dataset["record"]]
    device = pipeline._execution_device
    multiple = pipeline.vae_scale_factor * 2
    for index in tqdm(range(len(dataset)), desc="caching embeddings and latents", unit="pair"):
        row = dataset[index]
        degraded, clean = row["degraded"].convert("RGB"), row["clean"].convert("RGB")
        width, height = working_size(degraded.width, degraded.height, config.max_pixels, multiple)
        condition = pipeline.image_processor.resize(degraded, height, width)
        prompt = config.ablation.prompt(diagnoses[index])
        with torch.no_grad():
            embeds, mask = pipeline.encode_prompt(image=condition, prompt=[prompt], device=device)
            entry = {
                "prompt": prompt,
                "prompt_embeds": embeds[0].cpu(),
                "prompt_mask": (mask[0] if mask is not None else torch.ones(embeds.shape[1], dtype=torch.long)).cpu(),
                "target": encode_latents(pipeline, clean, height, width).cpu(),
                "condition": encode_latents(pipeline, degraded, height, width).cpu(),
                "size": (height, width),
            }
        buffer = __import__("io").BytesIO()
        torch.save(entry, buffer)
        atomic_write_bytes(files[index], buffer.getvalue())
    marker.write_text(json.dumps({"key": key, "count": len(dataset)}))
    return files


# --- the loss ------------------------------------------------------------------------
def pack(latents):
    """(B, z, 1, h, w) latents to the transformer's (B, h/2·w/2, 4z) patch sequence."""
    from diffusers import QwenImageEditPipeline

    b, z, _, h, w = latents.shape
    return QwenImageEditPipeline._pack_latents(latents[:, :, 0], b, z, h, w)


def flow_matching_loss(transformer, batch: dict[str, Any], sigmas, noise):
    """MSE between the predicted and the true velocity ``ε − x0`` at ``x_t = (1 − σ)·x0 + σ·ε``."""
    import torch

    x0 = pack(batch["target"])
    condition = pack(batch["condition"])
    epsilon = pack(noise)
    sigma = sigmas.view(-1, 1, 1).to(x0)
    noisy = (1 - sigma) * x0 + sigma * epsilon
    h, w = batch["target"].shape[-2:]
    shapes = [[(1, h // 2, w // 2), (1, h // 2, w // 2)]] * x0.shape[0]
    prediction = transformer(
        hidden_states=torch.cat([noisy, condition], dim=1),
        timestep=sigmas.to(x0),
        encoder_hidden_states=batch["prompt_embeds"],
        encoder_hidden_states_mask=batch["prompt_mask"],
        img_shapes=shapes,
        return_dict=False,
    )[0][:, : x0.shape[1]]
    return torch.nn.functional.mse_loss(prediction.float(), (epsilon - x0).float())


def collate(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack same-size pairs; pad prompt embeddings to the longest, with the mask saying which are real."""
    import torch

    length = max(e["prompt_embeds"].shape[0] for e in entries)
    embeds = torch.stack([torch.nn.functional.pad(e["prompt_embeds"], (0, 0, 0, length - e["prompt_embeds"].shape[0])) for e in entries])
    mask = torch.stack([torch.nn.functional.pad(e["prompt_mask"], (0, length - e["prompt_mask"].shape[0])) for e in entries])
    return {
        "prompt_embeds": embeds,
        "prompt_mask": mask,
        "target": torch.stack([e["target"] for e in entries]),
        "condition": torch.stack([e["condition"] for e in entries]),
    }


# --- training ------------------------------------------------------------------------
def load_pairs(config: RestorerTrainConfig):
    from datasets import load_from_disk

    try:
        dataset = load_from_disk(config.data)
    except (FileNotFoundError, ValueError) as error:
        raise ConfigError(f"--data {config.data}: not a datasets folder ({error}); make one with rnr-synth") from None
    missing = [c for c in ("clean", "degraded", "record") if c not in dataset.column_names]
    if missing:
        raise ConfigError(f"--data {config.data}: lacks columns {missing}; make it with rnr-synth --format hf")
    dataset = dataset.select_columns(["clean", "degraded", "record"])
    if config.limit is not None:
        dataset = dataset.select(range(min(config.limit, len(dataset))))
    return dataset


def add_lora(transformer, config: RestorerTrainConfig):
    from peft import LoraConfig

    transformer.requires_grad_(False)
    transformer.add_adapter(
        LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, init_lora_weights="gaussian", target_modules=list(config.lora_targets))
    )
    return [p for p in transformer.parameters() if p.requires_grad]


def train(config: RestorerTrainConfig) -> Path:
    """Cache, train (or resume), save the LoRA (diffusers format) and the resolved config.

    The pipeline is loaded on the CPU; only the text encoder and VAE go to the device, for the cache, and
    are freed before the transformer is prepared (moved, or sharded by FSDP: configs/accelerate/)."""
    import torch
    from rnr.devices import launched_accelerator

    config.check_ready()
    accelerator = launched_accelerator(gradient_accumulation_steps=config.gradient_accumulation, mixed_precision=config.mixed_precision)
    pipeline = _load_pipeline(config, str(accelerator.device))  # refused before anything is written
    output = Path(config.output)
    output.mkdir(parents=True, exist_ok=True)
    if accelerator.is_main_process:
        (output / "rnr-train.yaml").write_text(yaml.safe_dump({"stage": "restorer", **to_dict(config)}, sort_keys=False))
    cache = Path(config.cache_dir) if config.cache_dir else output / "cache"
    with accelerator.main_process_first():
        files = build_cache(config, pipeline, load_pairs(config), cache)
    transformer = pipeline.transformer
    pipeline.text_encoder = pipeline.vae = None  # cached: free them before training
    trainable = add_lora(transformer, config)
    if config.gradient_checkpointing:
        transformer.enable_gradient_checkpointing()
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate)
    transformer, optimizer = accelerator.prepare(transformer, optimizer)
    state = _resume(accelerator, output)
    losses = _train_steps(config, accelerator, transformer, optimizer, files, state)
    _save_lora(accelerator, config, transformer, output, state["step"], losses)
    return output


def _load_pipeline(config: RestorerTrainConfig, device: str):
    """The pipeline in the device's dtype, on the CPU, its text encoder and VAE on the device (for the cache)."""
    from restorer.qwen import QwenEditRestorer, RestorerLoadError
    from rnr.devices import torch_dtype

    dtype = str(torch_dtype("auto", device)).removeprefix("torch.")
    try:
        pipeline = QwenEditRestorer.from_pretrained(config.model, device="cpu", dtype=dtype).pipeline
    except RestorerLoadError as error:
        raise ConfigError(str(error)) from None
    pipeline.text_encoder.to(device)
    pipeline.vae.to(device)
    return pipeline


def flow_matching_step(config: RestorerTrainConfig, accelerator, transformer, optimizer, batch: dict[str, Any], generator):
    """One (accumulated) LoRA step on a cached batch: sigmas and noise drawn from `generator`; the loss."""
    import torch
    from diffusers.training_utils import compute_density_for_timestep_sampling

    with accelerator.accumulate(transformer):
        sigmas = compute_density_for_timestep_sampling(
            config.weighting_scheme, config.batch_size, config.logit_mean, config.logit_std, config.mode_scale, generator=generator
        ).to(accelerator.device)
        noise = torch.randn(batch["target"].shape, generator=generator).to(batch["target"])
        loss = flow_matching_loss(transformer, batch, sigmas, noise)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
    return loss


def _train_steps(config: RestorerTrainConfig, accelerator, transformer, optimizer, files: list[Path], state: dict[str, Any]) -> list[float]:
    """Optimizer steps from `state["step"]` to `max_steps`; each process reads its own slice of the shuffled pairs."""
    import torch

    generator = torch.Generator().manual_seed(config.seed + state["step"] + accelerator.process_index)
    order = torch.randperm(len(files), generator=torch.Generator().manual_seed(config.seed)).tolist()
    transformer.train()
    losses: list[float] = []
    while state["step"] < config.max_steps:
        start = (state["step"] * config.batch_size * accelerator.num_processes + accelerator.process_index * config.batch_size)
        picks = [order[(start + k) % len(order)] for k in range(config.batch_size)]
        batch = collate([torch.load(files[i], weights_only=True) for i in picks])
        batch = {k: v.to(accelerator.device) for k, v in batch.items()}  # tensors only: collate drops the prompt text
        loss = flow_matching_step(config, accelerator, transformer, optimizer, batch, generator)
        if accelerator.sync_gradients:
            state["step"] += 1
            losses.append(loss.item())
            if state["step"] % config.logging_steps == 0 and accelerator.is_main_process:
                print(json.dumps({"step": state["step"], "loss": sum(losses[-config.logging_steps :]) / config.logging_steps}))
            if state["step"] % config.save_steps == 0:
                _checkpoint(accelerator, Path(config.output), state)
    return losses


def _save_lora(accelerator, config: RestorerTrainConfig, transformer, output: Path, steps: int, losses: list[float]) -> None:
    """Rank 0 writes the LoRA (gathered from every process first, which FSDP needs) and the record."""
    from diffusers import QwenImageEditPipeline
    from peft.utils import get_peft_model_state_dict

    state_dict = accelerator.get_state_dict(transformer)  # every process: FSDP gathers the shards here
    if accelerator.is_main_process:
        layers = get_peft_model_state_dict(accelerator.unwrap_model(transformer), state_dict=state_dict)
        QwenImageEditPipeline.save_lora_weights(str(output), transformer_lora_layers=layers)
        (output / "rnr-restorer.json").write_text(json.dumps({"base": config.model, "steps": steps, "processes": accelerator.num_processes, "losses": losses}))
    accelerator.wait_for_everyone()


def _resume(accelerator, output: Path) -> dict[str, Any]:
    checkpoints = sorted(output.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    if not checkpoints:
        return {"step": 0}
    accelerator.load_state(str(checkpoints[-1]))
    return {"step": int(checkpoints[-1].name.split("-")[1])}


def _checkpoint(accelerator, output: Path, state: dict[str, Any]) -> None:
    accelerator.save_state(str(output / f"checkpoint-{state['step']}"))

