"""The five Qwen stages, each once, with time and peak memory per phase (issue 16).

Shared by benchmarks/bench_real_width.py (CPU, few layers, one process per stage) and
benchmarks/gpu_check.py (one GPU, full depth, one process). Each stage goes through the
package's own code: `reasoner.train.build_trainer`, `QwenReasoner`, `restorer.train`'s
cache / LoRA / flow-matching loss, `QwenEditRestorer`, and `rl.grpo`'s `QwenPolicy` and
`grpo_loss`, with the configs read from the shipped presets plus the overrides a
benchmark needs (a step count, the batch a CPU can take).

A `Meter` times named phases and keeps each one's peak memory: on a CPU the process's
peak resident set (VmHWM, reset per phase through /proc/self/clear_refs), on a GPU the
CUDA allocator's peak. Wrapped calls (`Meter.wrap`) are how the text encoder, the
transformer, the VAE and the judge are told apart inside one stage.
"""

from __future__ import annotations

import contextlib
import gc
import re
import time
from pathlib import Path
from typing import Any

import real_width_models  # noqa: F401  (puts the package and the tests' tokenizer on sys.path)

GRPO_SIGNAL = 1.0  # psnr_reward: a random judge scores every candidate alike, and a flat group has no gradient


class Meter:
    """Seconds, calls and peak bytes of named phases; phases nest, and an inner reset keeps the outer peak."""

    def __init__(self, device: str = "cpu") -> None:
        self.cuda = device.startswith("cuda")
        self.phases: dict[str, dict[str, float]] = {}
        self.open: list[str] = []

    def _sync(self) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize()

    def peak(self) -> int:
        if self.cuda:
            import torch

            return torch.cuda.max_memory_allocated()
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) * 1024

    def _reset(self) -> None:
        if self.cuda:
            import torch

            torch.cuda.reset_peak_memory_stats()
            return
        with contextlib.suppress(OSError):  # without it, peaks only grow: still an upper bound
            Path("/proc/self/clear_refs").write_text("5")

    def _fold(self, peak: int) -> None:
        for name in self.open:
            self.phases[name]["peak_bytes"] = max(self.phases[name]["peak_bytes"], peak)

    @contextlib.contextmanager
    def phase(self, name: str):
        self._sync()
        self._fold(self.peak())
        parent = self.open[-1] if self.open else None
        entry = self.phases.setdefault(name, {"seconds": 0.0, "cpu_seconds": 0.0, "calls": 0, "peak_bytes": 0, "parent": parent})
        self._reset()
        self.open.append(name)
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            yield entry
        finally:
            self._sync()
            entry["seconds"] += time.perf_counter() - started
            entry["cpu_seconds"] += time.process_time() - cpu_started  # all threads: the work, whatever else runs
            entry["calls"] += 1
            self.open.remove(name)
            peak = self.peak()
            entry["peak_bytes"] = max(entry["peak_bytes"], peak)
            self._fold(peak)

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        """Time every call of `owner.attribute` as phase `name` (an instance attribute: the class is untouched)."""
        original = getattr(owner, attribute)

        def timed(*args, **kwargs):
            with self.phase(name):
                return original(*args, **kwargs)

        setattr(owner, attribute, timed)

    def report(self) -> dict[str, dict[str, float]]:
        return {name: dict(entry) for name, entry in self.phases.items()}


def free(*objects) -> None:
    """Drop references and return the memory (the caller deletes its own names too)."""
    del objects
    gc.collect()
    with contextlib.suppress(ImportError):
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def synth_set(folder: Path, size: int, count: int) -> Path:
    """An rnr-synth set of `count` samples at `size`² from the bundled photos (the stages' training data)."""
    from rnr.cli.synth import main

    out = Path(folder) / f"synth-{size}"
    if main(["--quiet", "--workers", "1", "--input", "bundled", "--num", str(count), "--size", str(size), "--output", str(out)]) != 0:
        raise RuntimeError(f"rnr-synth could not make {out}")
    return out


def lora_state(module) -> dict[str, Any]:
    return {name: p.detach().float().cpu().clone() for name, p in module.named_parameters() if "lora_" in name}


def changed(before: dict[str, Any], module) -> bool:
    """Whether any LoRA weight moved (and all stayed finite)."""
    import torch

    after = lora_state(module)
    finite = all(torch.isfinite(v).all() for v in after.values())
    return bool(after) and finite and any(not torch.equal(before[k], after[k]) for k in before)


# --- stage 1: reasoner SFT --------------------------------------------------------------
def reasoner_sft(meter: Meter, model: str, data: Path, output: Path, preset: str, **overrides) -> dict[str, Any]:
    """`overrides` (e.g. max_steps, batch_size) replace the preset's values; the rest is the preset."""
    from reasoner.train import ReasonerTrainConfig, build_trainer
    from rnr.config import load_config

    # warmup 0: a benchmark's one or two steps would otherwise run at the warm-up's learning rate of 0
    settings = {"model": model, "data": str(data), "output": str(output), "save_steps": 10**6, "logging_steps": 1,
                "warmup_steps": 0, **overrides}
    config = load_config(ReasonerTrainConfig, preset, [f"{key}={value}" for key, value in settings.items()])
    with meter.phase("load"):
        trainer = build_trainer(config)
    before = lora_state(trainer.model)
    with meter.phase("sft steps"):
        result = trainer.train()
    return {"steps": config.max_steps, "loss": float(result.training_loss), "lora_changed": changed(before, trainer.model)}


# --- stage 1': diagnosis ----------------------------------------------------------------
def diagnose(meter: Meter, model: str, images: list, device: str, max_new_tokens: int, batch_size: int = 8,
             dtype: str = "bfloat16") -> dict[str, Any]:
    from reasoner.qwen import QwenReasoner

    with meter.phase("load"):
        reasoner = QwenReasoner.from_pretrained(model, device=device, dtype=dtype, max_new_tokens=max_new_tokens)
    new_tokens = []
    generate = reasoner.model.generate

    def counted(*args, **kwargs):
        output = generate(*args, **kwargs)
        new_tokens.append(int((output[:, kwargs["input_ids"].shape[1]:] != reasoner.processor.tokenizer.pad_token_id).sum()))
        return output

    reasoner.model.generate = counted
    meter.wrap(reasoner.model, "generate", "generate")
    diagnoses = reasoner.diagnose(images, batch_size=batch_size)
    seconds = meter.phases["generate"]["seconds"]
    return {"images": len(images), "new_tokens": sum(new_tokens), "images_per_s": len(images) / seconds,
            "diagnoses": len(diagnoses), "image_side": int(getattr(images[0], "shape", [0])[0])}


# --- stage 2: restorer LoRA SFT ---------------------------------------------------------
def instrument(meter: Meter, pipeline) -> None:
    """Tell the pipeline's parts apart in the meter: text encoder, transformer, VAE."""
    meter.wrap(pipeline, "encode_prompt", "text encoder")
    meter.wrap(pipeline.transformer, "forward", "transformer")
    meter.wrap(pipeline.vae, "encode", "vae encode")
    meter.wrap(pipeline.vae, "decode", "vae decode")


def restorer_sft(meter: Meter, pipeline, data: Path, output: Path, preset: str, **overrides) -> dict[str, Any]:
    """The restorer stage's work as `restorer.train.train` does it, on an already built pipeline:
    cache prompt embeddings and latents, free the text encoder and VAE, LoRA steps."""
    import torch
    from accelerate import Accelerator

    from restorer.train import RestorerTrainConfig, add_lora, build_cache, collate, flow_matching_step, load_pairs
    from rnr.config import load_config

    settings = {"model": "real-width", "data": str(data), "output": str(output), **overrides}
    config = load_config(RestorerTrainConfig, preset, [f"{key}={value}" for key, value in settings.items()])
    accelerator = Accelerator(gradient_accumulation_steps=config.gradient_accumulation, mixed_precision=config.mixed_precision)
    with meter.phase("cache"):
        files = build_cache(config, pipeline, load_pairs(config), Path(output) / "cache")
    text_encoder, vae = pipeline.text_encoder, pipeline.vae
    pipeline.text_encoder = pipeline.vae = None  # cached: the stage frees them before training
    free(text_encoder, vae)
    del text_encoder, vae
    transformer = pipeline.transformer
    trainable = add_lora(transformer, config)
    if config.gradient_checkpointing:
        transformer.enable_gradient_checkpointing()
    before = lora_state(transformer)
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate)
    model, optimizer = accelerator.prepare(transformer, optimizer)
    generator = torch.Generator().manual_seed(config.seed)
    losses, micro = [], 0
    model.train()
    with meter.phase("lora steps"):
        while len(losses) < config.max_steps:
            batch = collate([torch.load(files[(micro + k) % len(files)], weights_only=True) for k in range(config.batch_size)])
            batch = {k: v.to(accelerator.device) for k, v in batch.items()}
            micro += config.batch_size
            loss = flow_matching_step(config, accelerator, model, optimizer, batch, generator)
            if accelerator.sync_gradients:
                losses.append(float(loss))
    model.eval()
    return {"steps": len(losses), "micro_batches": micro // config.batch_size, "loss": losses[-1],
            "lora_changed": changed(before, transformer), "pairs": len(files)}


# --- stage 2': restore ------------------------------------------------------------------
def restore(meter: Meter, pipeline, images: list, max_pixels: int, **options) -> dict[str, Any]:
    """`QwenEditRestorer.restore` with a fixed diagnosis (fog and noise), whose prompt is a typical one;
    `options` (steps, guidance) go to `QwenEditRestorer`, whose defaults `rnr-restore` uses."""
    import numpy as np

    from restorer.qwen import QwenEditRestorer
    from rnr.diagnosis import Diagnosis, Finding

    diagnosis = Diagnosis(
        fog=Finding(True, 55.0, {"atmospheric_light": [0.9, 0.9, 0.92], "beta": 1.6, "t_mean": 0.45}),
        noise=Finding(True, 20.0, {"k": 0.1, "b": 2.0, "sigma_mean": 0.01}),
        scene="A harbour with boats under a grey sky",
    )
    restorer = QwenEditRestorer(pipeline, max_pixels=max_pixels, **options)
    with meter.phase("restore"):
        outputs = restorer.restore(images, [diagnosis] * len(images))
    same_size = all(out.shape == np.asarray(image).shape for out, image in zip(outputs, images))
    finite = all(bool(np.isfinite(out).all()) for out in outputs)
    return {"images": len(images), "steps": restorer.steps, "guidance": restorer.guidance, "same_size": same_size, "finite": finite,
            "s_per_image": meter.phases["restore"]["seconds"] / len(images)}


# --- stage 3: GRPO ----------------------------------------------------------------------
def grpo_steps(meter: Meter, pipeline, judge: str, data: Path, output: Path, preset: str, device: str, judge_dtype: str = "bfloat16",
               **overrides) -> dict[str, Any]:
    """Algorithm 1's step as `rl.grpo.train` takes it, on an already built pipeline: the frozen judge
    diagnoses the input, the policy rolls out a group, the judge scores each candidate, one update."""
    import numpy as np
    import torch

    from reasoner.qwen import QwenReasoner
    from restorer.qwen import QwenEditRestorer
    from rl.grpo import GRPOConfig, QwenPolicy, candidate_psnrs, grpo_loss
    from rl.rewards import clipped, severity_reduction
    from datasets import load_from_disk

    from rnr.config import load_config

    settings = {"restorer": "real-width", "reasoner": judge, "data": str(data), "output": str(output), "psnr_reward": GRPO_SIGNAL, **overrides}
    config = load_config(GRPOConfig, preset, [f"{key}={value}" for key, value in settings.items()])
    dataset = load_from_disk(str(data))
    with meter.phase("load judge"):
        judge_model = QwenReasoner.from_pretrained(
            judge, device=device, dtype=judge_dtype, max_new_tokens=config.judge_max_new_tokens,
            min_pixels=config.judge_min_pixels, max_pixels=config.judge_max_pixels,
        )
    meter.wrap(judge_model.model, "generate", "judge")
    policy = QwenPolicy(QwenEditRestorer(pipeline, max_pixels=config.max_pixels, guidance=config.guidance), config)
    parameters = policy.trainable_parameters()
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    before = lora_state(pipeline.transformer)
    rng = np.random.default_rng(config.seed)
    log = []
    for step in range(config.max_steps):
        row = dataset[step % len(dataset)]
        with meter.phase("rollout"):
            diagnosis = judge_model.diagnose([row["degraded"]])[0]
            seeds = rng.integers(0, 2**31 - 1, config.num_generations)
            candidates, energies, _ = policy.rollout(row["degraded"], diagnosis, row["clean"], seeds)
            after = judge_model.severities(candidates).tolist()
        rewards = torch.tensor(clipped(severity_reduction(list(diagnosis.severities()), after, config.reward_weights), config.reward_clip))
        rewards = rewards + config.psnr_reward * torch.tensor(candidate_psnrs(candidates, row["clean"]))
        with meter.phase("backward"):
            optimizer.zero_grad()
            loss = grpo_loss(energies, rewards, config.temperature, config.epsilon)
            loss.backward()
            grad_norm = float(torch.nn.utils.clip_grad_norm_(parameters, config.max_grad_norm))
            optimizer.step()
        log.append({"loss": float(loss), "grad_norm": grad_norm, "reward_std": float(rewards.std())})
    return {"steps": config.max_steps, "group": config.num_generations, "denoising_steps": config.denoising_steps,
            "log": log, "lora_changed": changed(before, pipeline.transformer)}
