"""GRPO for restorers with the fidelity-softmax policy proxy (paper section 3.3, Algorithm 1, A.3).

Per input: the frozen reasoner diagnoses ``I_d`` and scores it; the restorer samples a
group of N candidates ``Ĵ_k``; ``E_k = ‖Ĵ_k − J_gt‖²`` (mean over pixels);
``log P(Ĵ_k) = log softmax(−E/τ)_k``; the reasoner scores each candidate and
``r_k = Σ_i (s_i(I_d) − s_i(Ĵ_k))``; ``A_k = (r_k − mean r)/(std r + ε)``; the loss
``−(1/N) Σ_k A_k log P(Ĵ_k)`` sends its gradient through ``E_k`` into the restorer's
trainable weights. Since Σ A_k = 0, ``∂L/∂E_j = A_j/(N·τ)``: a step lowers the error of
candidates rewarded above the group mean and raises it for the rest.

trl has no RL for diffusion models, so the loop is ours; its config mirrors trl's
`GRPOConfig` names where they mean the same thing (`num_generations`, `epsilon`...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import yaml

from rl.rewards import clipped, severity_reduction
from rnr.config import ConfigError, to_dict


# --- the maths -----------------------------------------------------------------------
def fidelity_log_probs(energies, temperature: float):
    """``log softmax(−E/τ)`` over a group: the policy proxy (appendix A.3)."""
    import torch

    return torch.log_softmax(-energies / temperature, dim=-1)


def group_advantages(rewards, epsilon: float = 1e-4):
    """``(r − mean r)/(std r + ε)`` within a group (sample std, as trl does)."""
    rewards = rewards.float()
    spread = rewards.std() if rewards.numel() > 1 else rewards.new_zeros(())
    return (rewards - rewards.mean()) / (spread + epsilon)


def grpo_loss(energies, rewards, temperature: float, epsilon: float = 1e-4):
    """``−(1/N) Σ_k A_k log P(Ĵ_k)``; advantages are constants, the gradient flows through E."""
    advantages = group_advantages(rewards, epsilon).detach().to(energies)
    return -(advantages * fidelity_log_probs(energies, temperature)).mean()


# --- the config ----------------------------------------------------------------------
@dataclass(frozen=True)
class GRPOConfig:
    """Stage 3 settings; presets in configs/grpo/."""

    restorer: str = ""  # the SFT restorer: an rnr-train restorer output (LoRA) or a base model
    model: str | None = None  # the base model, when `restorer` is a LoRA folder that does not name it
    reasoner: str = ""  # the frozen judge
    data: str = ""  # an rnr-synth dataset (hf format)
    output: str = "runs/grpo"
    max_steps: int = 200
    learning_rate: float = 1e-5
    weight_decay: float = 0.0  # AdamW's default 0.01 would shrink the LoRA even in steps without signal
    num_generations: int = 4  # N, the group size
    batch_size: int = 1  # inputs per step and process, one rollout group each
    gradient_accumulation: int = 1  # steps' worth of inputs whose gradients add up before one optimizer step
    temperature: float = 0.01  # τ of the fidelity softmax, in units of E (mean squared error in [0, 1] space)
    epsilon: float = 1e-4
    denoising_steps: int = 8  # of each rollout
    grad_steps: int = 1  # K: the last K denoising steps keep the gradient
    guidance: float = 1.0
    judge_max_new_tokens: int = 512  # the judge writes a whole diagnosis per candidate
    judge_min_pixels: int | None = None  # the judge's image budget (docs/REASONER.md); None: the one it was trained with
    judge_max_pixels: int | None = None
    sampling_temperature: float = 1.0  # lite restorer: strength of its injected noise and diagnosis jitter
    max_pixels: int = 512 * 512
    fidelity_space: str = "pixel"  # or "latent": E between latents, no VAE in the backward pass
    # "fidelity" (the paper): E_k = ‖Ĵ_k − J_gt‖². "candidate" (lite restorer only): E_k = ‖μ_θ − sg(Ĵ_k)‖²,
    # μ_θ the deterministic output, so a step moves μ_θ towards the candidates the judge preferred.
    policy_proxy: str = "fidelity"
    # Beyond the paper, off by default:
    anchor_weight: float = 0.0  # MSE pull of the trainable weights towards the SFT weights
    fidelity_weight: float = 0.0  # + weight * the rollout's error to the ground truth (paper proxy: mean E of the group)
    reward_clip: float | None = None  # clip rewards to [-c, c]
    psnr_reward: float = 0.0  # + weight * PSNR(Ĵ_k, J_gt) in dB: the judge's points and fidelity in one reward
    reward_weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)  # per degradation
    max_grad_norm: float = 1.0
    mixed_precision: str = "no"
    gradient_checkpointing: bool = False
    logging_steps: int = 1
    save_steps: int = 50
    limit: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.num_generations < 2:
            raise ValueError("num_generations must be at least 2: advantages compare candidates within a group")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")
        if self.fidelity_space not in ("pixel", "latent"):
            raise ValueError(f"fidelity_space must be pixel or latent, got {self.fidelity_space!r}")
        if self.policy_proxy not in ("fidelity", "candidate"):
            raise ValueError(f"policy_proxy must be fidelity or candidate, got {self.policy_proxy!r}")
        if not 1 <= self.grad_steps <= self.denoising_steps:
            raise ValueError(f"grad_steps must be in [1, denoising_steps={self.denoising_steps}], got {self.grad_steps}")
        if len(self.reward_weights) != 4:
            raise ValueError("reward_weights needs 4 numbers: fog, shake, rain, noise")
        if self.mixed_precision not in ("no", "bf16", "fp16"):
            raise ValueError(f"mixed_precision must be no, bf16 or fp16, got {self.mixed_precision!r}")
        for name in ("max_steps", "batch_size", "gradient_accumulation", "logging_steps", "save_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    @property
    def inputs_per_step(self) -> int:
        """Rollout groups each process adds up before an optimizer step."""
        return self.batch_size * self.gradient_accumulation

    def check_ready(self) -> None:
        for name, flag in (("restorer", "--restorer PATH"), ("reasoner", "--reasoner PATH"), ("data", "--data DIR")):
            if not getattr(self, name):
                raise ConfigError(f"no {name}: pass {flag} or set {name}: in the config")


# --- what the loop needs from a restorer ----------------------------------------------
class Policy(Protocol):
    """A restorer as the GRPO loop sees it; `QwenPolicy` adapts `QwenEditRestorer`.

    A policy may also name its `network`, the torch module holding its trainable parameters
    (with its frozen base): the loop then prepares it whole, so FSDP shards the base too
    (rl/rollout.py), and passes `save` the gathered trainable weights."""

    def rollout(self, image: Any, diagnosis: Any, clean: Any, seeds: Sequence[int]) -> tuple[Any, Any, Any]:
        """For one input: candidates as float images for the judge, the proxy's energies E_k with the
        gradient, and the policy's mean squared error to the ground truth with the gradient (for
        `fidelity_weight`; under the paper's proxy, the mean of E)."""

    def trainable_parameters(self) -> list[Any]: ...

    def save(self, output: Path) -> None: ...


class QwenPolicy:
    """`QwenEditRestorer` with its LoRA trainable: rollouts keep the gradient for the last K steps."""

    def __init__(self, restorer, config: GRPOConfig) -> None:
        if config.policy_proxy != "fidelity":
            raise ConfigError("policy_proxy candidate needs a deterministic restorer output: use it with --backend lite")
        self.restorer = restorer
        self.config = config
        transformer = restorer.pipeline.transformer
        if not any("lora_" in name for name, _ in transformer.named_parameters()):
            from restorer.train import RestorerTrainConfig, add_lora

            add_lora(transformer, RestorerTrainConfig())  # no SFT LoRA given: start a fresh one
        for name, parameter in transformer.named_parameters():
            parameter.requires_grad_("lora_" in name)
        for module in (restorer.pipeline.vae, restorer.pipeline.text_encoder):
            module.requires_grad_(False)
        if config.gradient_checkpointing:
            transformer.enable_gradient_checkpointing()
        self.network = transformer
        self.reference = [p.detach().clone() for p in self.trainable_parameters()]

    def trainable_parameters(self) -> list[Any]:
        return [p for p in self.restorer.pipeline.transformer.parameters() if p.requires_grad]

    def rollout(self, image, diagnosis, clean, seeds):
        import torch

        from restorer.qwen import encode_latents, working_size
        from rnr.imageio import to_pil

        pipe = self.restorer.pipeline
        prompt = self.restorer.ablation.prompt(diagnosis)
        pil = to_pil(image)
        width, height = working_size(pil.width, pil.height, self.config.max_pixels, pipe.vae_scale_factor * 2)
        target = pipe.image_processor.preprocess(to_pil(clean), height, width)[0].to(pipe._execution_device)
        target = (target.float() + 1) / 2  # the processor maps to [-1, 1]
        output = "latent" if self.config.fidelity_space == "latent" else "image"
        if output == "latent":  # the clean image's latents, once per group
            from restorer.train import pack

            with torch.no_grad():
                reference = pack(encode_latents(pipe, to_pil(clean), height, width)[None])
        candidates, energies = [], []
        for seed in seeds:
            generator = torch.Generator().manual_seed(int(seed))
            result = self.restorer.denoise(
                pil, prompt, self.config.denoising_steps, self.config.guidance, generator,
                self.config.max_pixels, grad_steps=self.config.grad_steps, output=output,
            )
            if output == "latent":
                energies.append(((result - reference.to(result)) ** 2).mean())
                image_out = self.restorer.decode(result.detach(), height, width)
            else:
                energies.append(((result - target) ** 2).mean())
                image_out = result.detach()
            candidates.append(image_out.permute(1, 2, 0).cpu().numpy())
        energies = torch.stack(energies)
        return candidates, energies, energies.mean()

    def save(self, output: Path, state_dict: dict[str, Any] | None = None) -> None:
        """The LoRA in the diffusers format; `state_dict`: the transformer's, gathered (FSDP), else its own."""
        from diffusers import QwenImageEditPipeline
        from peft.utils import get_peft_model_state_dict

        transformer = self.restorer.pipeline.transformer
        adapter = next(iter(transformer.peft_config))  # "default_0" when loaded by load_lora_weights
        layers = get_peft_model_state_dict(transformer, state_dict=state_dict, adapter_name=adapter)
        QwenImageEditPipeline.save_lora_weights(str(output), transformer_lora_layers=layers)


def resolve_restorer(config: GRPOConfig) -> tuple[str, str | None]:
    """(base, lora) from `restorer` (+ `model`): an SFT output names its base in rnr-restorer.json."""
    from restorer.qwen import RestorerLoadError, resolve_restorer_path

    try:
        return resolve_restorer_path(config.restorer, config.model)
    except RestorerLoadError as error:
        raise ConfigError(f"--restorer {error}; set model=BASE") from None


# --- the loop ------------------------------------------------------------------------
RewardFunction = Callable[..., list[float]]


def _load_dataset(config: GRPOConfig):
    from datasets import load_from_disk

    from rnr.training_data import GRPO_COLUMNS, check_limit, check_training_set

    check_limit(config.limit)
    check_training_set(config.data, GRPO_COLUMNS)
    dataset = load_from_disk(config.data)
    if config.limit is not None:
        dataset = dataset.select(range(min(config.limit, len(dataset))))
    return dataset


def train(config: GRPOConfig, reward_function: RewardFunction | None = None, policy: Policy | None = None, judge=None) -> Path:
    """Algorithm 1 on accelerate. `reward_function(candidates, input_severities, candidate_severities)` defaults
    to the paper's severity reduction (with the config's weights and clipping).

    A step is `batch_size × gradient_accumulation` inputs per process, one rollout group each (one group's
    graph in memory at a time); across processes DDP (or FSDP) averages the gradients, so N processes with
    batch 1 take the step one process with batch N takes. Inputs and noise seeds are drawn per step from
    `seed` and the step number for the whole world, so a resumed run continues where it stopped."""
    from rnr.devices import launched_accelerator

    config.check_ready()
    dataset = _load_dataset(config)  # first: a set that cannot be trained on leaves no output folder behind
    accelerator = launched_accelerator(mixed_precision=config.mixed_precision, gradient_accumulation_steps=config.inputs_per_step)
    output = Path(config.output)
    output.mkdir(parents=True, exist_ok=True)
    if accelerator.is_main_process:
        (output / "rnr-train.yaml").write_text(yaml.safe_dump({"stage": "grpo", **to_dict(config)}, sort_keys=False))
    policy = policy or _qwen_policy(config, str(accelerator.device))
    judge = judge or _qwen_judge(config, str(accelerator.device))
    rollout, optimizer = _prepare(accelerator, config, policy)
    state = _resume(accelerator, output)
    run = _Run(config, accelerator, rollout, optimizer, judge, reward_function or _paper_reward(config), dataset)
    while state["step"] < config.max_steps:
        entry = run.step(state["step"])
        state["step"] += 1
        state["log"].append({"step": state["step"], **entry})
        if state["step"] % config.logging_steps == 0 and accelerator.is_main_process:
            print(json.dumps(state["log"][-1]))
        if state["step"] % config.save_steps == 0:
            _checkpoint(accelerator, output, state)
    _save(accelerator, config, rollout, output, state)
    return output


def _qwen_policy(config: GRPOConfig, device: str) -> "QwenPolicy":
    from restorer.qwen import QwenEditRestorer

    base, lora = resolve_restorer(config)
    return QwenPolicy(QwenEditRestorer.from_pretrained(base, lora=lora, device=device), config)


def _qwen_judge(config: GRPOConfig, device: str):
    from reasoner.qwen import QwenReasoner

    return QwenReasoner.from_pretrained(
        config.reasoner, device=device, max_new_tokens=config.judge_max_new_tokens,
        min_pixels=config.judge_min_pixels, max_pixels=config.judge_max_pixels,
    )


def _prepare(accelerator, config: GRPOConfig, policy: Policy):
    """The rollout as a prepared module (DDP, FSDP, autocast) and its AdamW; the policy may name its `network`."""
    import torch

    from rl.rollout import RolloutModule

    rollout = RolloutModule(policy, getattr(policy, "network", None))  # the lite policy names none: its weights alone
    optimizer = torch.optim.AdamW(policy.trainable_parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    return accelerator.prepare(rollout, optimizer)


class _Run:
    """One optimizer step after another: the judge's diagnoses of the inputs are cached (it is frozen)."""

    def __init__(self, config: GRPOConfig, accelerator, rollout, optimizer, judge, reward_function: RewardFunction, dataset) -> None:
        self.config, self.accelerator, self.rollout, self.optimizer = config, accelerator, rollout, optimizer
        self.judge, self.reward_function, self.dataset = judge, reward_function, dataset
        self.policy = accelerator.unwrap_model(rollout).policy
        self.input_cache: dict[int, tuple[Any, Any]] = {}  # index -> (diagnosis, severities) of I_d

    def draws(self, step: int):
        """This process's input indices and noise seeds for a step, drawn for all processes at once."""
        import numpy as np

        world, rank, count = self.accelerator.num_processes, self.accelerator.process_index, self.config.inputs_per_step
        rng = np.random.default_rng([self.config.seed, step])
        indices = rng.integers(0, len(self.dataset), (world, count))[rank]
        seeds = rng.integers(0, 2**31 - 1, (world, count, self.config.num_generations))[rank]
        return indices.tolist(), seeds

    def step(self, step: int) -> dict[str, float]:
        import numpy as np

        indices, seeds = self.draws(step)
        losses, rewards_seen, energies_seen, flat, grad_norm = [], [], [], 0, 0.0
        for index, group_seeds in zip(indices, seeds):
            with self.accelerator.accumulate(self.rollout):
                loss, rewards, energies = self.group_loss(index, group_seeds)
                self.accelerator.backward(loss)
                if self.accelerator.sync_gradients:
                    grad_norm = float(self.accelerator.clip_grad_norm_(self.policy.trainable_parameters(), self.config.max_grad_norm))
                self.optimizer.step()
                self.optimizer.zero_grad()
            losses.append(loss.item() / len(indices))
            rewards_seen.extend(rewards.tolist())
            energies_seen.extend(energies.detach().tolist())
            flat += int(rewards.std() == 0)
        return {
            "loss": float(sum(losses)),
            "reward_mean": float(np.mean(rewards_seen)),
            "reward_std": float(np.std(rewards_seen)),
            "energy_mean": float(np.mean(energies_seen)),
            "grad_norm": grad_norm,
            "zero_spread_share": flat / len(indices),  # groups that gave no learning signal
        }

    def group_loss(self, index: int, seeds):
        """One input's group: rollouts through the prepared module, the judge's rewards, the GRPO loss (+ options)."""
        import torch

        config, row = self.config, self.dataset[index]
        if index not in self.input_cache:
            diagnosis = self.judge.diagnose([row["degraded"]])[0]
            self.input_cache[index] = (diagnosis, list(diagnosis.severities()))
        diagnosis, before = self.input_cache[index]
        candidates, energies, error = self.rollout(row["degraded"], diagnosis, row["clean"], seeds)
        after = self.judge.severities(candidates).tolist()
        rewards = torch.tensor(self.reward_function(candidates=candidates, input_severities=before, candidate_severities=after))
        if config.psnr_reward > 0:
            rewards = rewards + config.psnr_reward * torch.tensor(candidate_psnrs(candidates, row["clean"]))
        loss = grpo_loss(energies, rewards, config.temperature, config.epsilon)
        if config.fidelity_weight > 0:
            loss = loss + config.fidelity_weight * error
        if config.anchor_weight > 0:
            drift = sum(((p - r) ** 2).sum() for p, r in zip(self.policy.trainable_parameters(), self.policy.reference))
            loss = loss + config.anchor_weight * drift
        return loss, rewards, energies


def candidate_psnrs(candidates, clean) -> list[float]:
    """PSNR (dB) of each candidate against the ground truth, at the candidates' size."""
    import cv2
    import numpy as np

    from rnr.imageio import as_float_image
    from rnr.metrics import psnr

    height, width = np.asarray(candidates[0]).shape[:2]
    target = as_float_image(clean)
    if target.shape[:2] != (height, width):  # the Qwen restorer works at a multiple of 16
        target = cv2.resize(target, (width, height), interpolation=cv2.INTER_AREA)
    return [psnr(np.asarray(candidate, np.float32), target) for candidate in candidates]  # identical: PSNR_CAP


def _paper_reward(config: GRPOConfig) -> RewardFunction:
    def reward(candidates, input_severities, candidate_severities) -> list[float]:
        raw = severity_reduction(input_severities, candidate_severities, config.reward_weights)
        return clipped(raw, config.reward_clip)

    return reward


STATE_FILE = "grpo-state.json"  # the step and the log, beside accelerate's model, optimizer and RNG files


def _checkpoint(accelerator, output: Path, state: dict[str, Any]) -> None:
    """`save_state` (every process takes part), then the step: a folder without it is incomplete."""
    folder = output / f"checkpoint-{state['step']}"
    accelerator.save_state(str(folder))
    if accelerator.is_main_process:
        from rnr.imageio import atomic_write_text

        atomic_write_text(folder / STATE_FILE, json.dumps(state))
    accelerator.wait_for_everyone()


def _resume(accelerator, output: Path) -> dict[str, Any]:
    """The latest complete checkpoint's trainable weights, optimizer state, step and log; else a fresh start."""
    complete = [p for p in output.glob("checkpoint-*") if (p / STATE_FILE).is_file() and p.name.split("-")[1].isdigit()]
    if not complete:
        return {"step": 0, "log": []}
    latest = max(complete, key=lambda p: int(p.name.split("-")[1]))
    accelerator.load_state(str(latest))
    saved = json.loads((latest / STATE_FILE).read_text())
    return {"step": int(saved["step"]), "log": saved["log"]}


def _save(accelerator, config: GRPOConfig, rollout, output: Path, state: dict[str, Any]) -> None:
    """Rank 0 writes the policy's weights (gathered from every process first, which FSDP needs) and the record."""
    trained = accelerator.get_state_dict(rollout)  # every process: FSDP gathers the shards here
    policy = accelerator.unwrap_model(rollout).policy
    if accelerator.is_main_process:
        if isinstance(policy, QwenPolicy):
            policy.save(output, {key.removeprefix("network."): value for key, value in trained.items()})
        else:
            policy.save(output)
        base = resolve_restorer(config)[0] if isinstance(policy, QwenPolicy) else None
        record = {"base": base, "stage": "grpo", "steps": state["step"], "processes": accelerator.num_processes, "log": state["log"]}
        (output / "rnr-restorer.json").write_text(json.dumps(record))
    accelerator.wait_for_everyone()
