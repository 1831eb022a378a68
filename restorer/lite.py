"""The lite restorer: a compact U-Net conditioned on the diagnosis, shipped with the package.

It restores at any size on a CPU. The diagnosis reaches it twice (the paper's point,
that reasoning guides restoration): as a vector (`rnr.encoding`) that modulates every
level through FiLM, and as a physical prior image — when fog is diagnosed, the
scattering model inverted with the diagnosed atmospheric light and mean transmission,
``J0 = (I − A·(1 − t)) / t`` — fed beside the input. Work happens at half resolution
(pixel-unshuffle in, pixel-shuffle out) and the output is the input plus a residual.

Sampling (for GRPO): candidates differ by an injected noise channel and by jittered
diagnosis strengths; the default (`temperature=0`) is deterministic. Large photos are
processed in overlapping tiles blended with a smooth window, so memory stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from restorer.prompts import Ablation
from rnr.diagnosis import DEGRADATIONS, Diagnosis
from rnr.encoding import VECTOR_SIZE, encode
from rnr.imageio import as_float_image

WEIGHTS = Path(__file__).resolve().parents[1] / "rnr" / "weights" / "lite-restorer.safetensors"
# The default is the stage-3 (GRPO) result; the stage-2 (SFT) one ships beside it for the w/o RL ablation.
SFT_WEIGHTS = WEIGHTS.with_name("lite-restorer-sft.safetensors")
FOG_T_FLOOR = 0.2  # the inversion divides by t: keep it from amplifying noise in dense fog


def _network(width: int = 24):
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, channels: int) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1), nn.GELU(), nn.Conv2d(channels, channels, 3, 1, 1))

        def forward(self, x, gamma, beta):
            return x + self.body(x) * (1 + gamma[:, :, None, None]) + beta[:, :, None, None]

    class LiteRestorationNet(nn.Module):
        """U-Net at 1/2, 1/4, 1/8 of the input; FiLM from the diagnosis vector at every block."""

        def __init__(self) -> None:
            super().__init__()
            c = [width, width * 2, width * 4]
            self.unshuffle, self.shuffle = nn.PixelUnshuffle(2), nn.PixelShuffle(2)
            self.inlet = nn.Conv2d(4 * 7, c[0], 3, 1, 1)  # image, prior, noise channel, unshuffled
            self.enc = nn.ModuleList([Block(c[0]), Block(c[1]), Block(c[2]), Block(c[2])])
            self.down = nn.ModuleList([nn.Conv2d(c[0], c[1], 2, 2), nn.Conv2d(c[1], c[2], 2, 2)])
            self.up = nn.ModuleList([nn.ConvTranspose2d(c[2], c[1], 2, 2), nn.ConvTranspose2d(c[1], c[0], 2, 2)])
            self.dec = nn.ModuleList([Block(c[1]), Block(c[0])])
            self.outlet = nn.Conv2d(c[0], 12, 3, 1, 1)
            widths = [c[0], c[1], c[2], c[2], c[1], c[0]]
            self.film = nn.Sequential(nn.Linear(VECTOR_SIZE, 96), nn.GELU(), nn.Linear(96, 2 * sum(widths)))
            self.widths = widths
            nn.init.zeros_(self.film[-1].weight)
            nn.init.zeros_(self.film[-1].bias)
            nn.init.zeros_(self.outlet.weight)  # starts as the identity: output = input
            nn.init.zeros_(self.outlet.bias)

        def forward(self, image, prior, noise, condition):
            films = torch.split(self.film(condition), [w for w in self.widths for _ in (0, 1)], dim=1)
            g = iter(zip(films[0::2], films[1::2]))
            x = self.inlet(self.unshuffle(torch.cat([image * 2 - 1, prior * 2 - 1, noise], dim=1)))
            s0 = self.enc[0](x, *next(g))
            s1 = self.enc[1](self.down[0](s0), *next(g))
            x = self.enc[2](self.down[1](s1), *next(g))
            x = self.enc[3](x, *next(g))
            x = self.dec[0](self.up[0](x) + s1, *next(g))
            x = self.dec[1](self.up[1](x) + s0, *next(g))
            return image + self.shuffle(self.outlet(x))

    return LiteRestorationNet()


def fog_prior(image, condition):
    """``(I − A·(1 − t)) / t`` where fog is diagnosed with its parameters (t floored), else the image itself."""
    import torch

    from rnr.encoding import param_offset

    start = param_offset("fog")
    present = condition[:, 0].view(-1, 1, 1, 1)
    light = condition[:, start : start + 3].view(-1, 3, 1, 1)
    raw_t = condition[:, start + 4].view(-1, 1, 1, 1)
    t = raw_t.clamp(min=FOG_T_FLOOR)
    dehazed = ((image - light * (1 - t)) / t).clamp(0, 1)
    return torch.where((present > 0.5) & (raw_t > 0), dehazed, image)  # t = 0: parameters withheld


def jitter(condition, generator, amount: float):
    """Scale each present degradation's severity by a random factor (diverse candidates)."""
    import torch

    if amount <= 0:
        return condition
    n = len(DEGRADATIONS)
    factors = 1 + amount * torch.randn(condition.shape[0], n, generator=generator)
    condition = condition.clone()
    condition[:, n : 2 * n] = (condition[:, n : 2 * n] * factors).clamp(0, 1)
    return condition


def ablated(condition: np.ndarray, ablation: Ablation) -> np.ndarray:
    """The condition vector without the scores and/or parameters: zeros, as for "no reasoner"."""
    n = len(DEGRADATIONS)
    condition = condition.copy()
    if not ablation.scores:
        condition[n : 2 * n] = 0.0
    if not ablation.params:
        condition[2 * n :] = 0.0
    return condition


@dataclass
class LiteRestorer:
    """The compact restorer, behind the same interface as `QwenEditRestorer`."""

    model: Any
    tile: int = 512
    overlap: int = 32
    name: str = "lite"
    ablation: Ablation = Ablation()

    @classmethod
    def load(cls, weights: str | Path | None = None, **options: Any) -> "LiteRestorer":
        from safetensors.torch import load_file

        path = Path(weights) if weights else WEIGHTS
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no lite restorer weights; reinstall rnr, or train them: rnr-train --stage restorer --backend lite")
        model = _network()
        model.load_state_dict(load_file(str(path)))
        return cls(model=model.eval(), name=str(path), **options)

    from_pretrained = load

    def forward(self, image, condition, generator=None, temperature: float = 0.0):
        """Differentiable: (B, 3, H, W) in [0, 1] and (B, VECTOR_SIZE) → restored (B, 3, H, W)."""
        import torch

        height, width = image.shape[-2:]
        pad_h, pad_w = (-height) % 8, (-width) % 8
        padded = torch.nn.functional.pad(image, (0, pad_w, 0, pad_h), mode="replicate")
        noise = torch.zeros_like(padded[:, :1])
        if temperature > 0:
            noise = temperature * torch.randn(noise.shape, generator=generator)
            condition = jitter(condition, generator, 0.15 * temperature)
        output = self.model(padded, fog_prior(padded, condition), noise, condition)
        return output[..., :height, :width].clamp(0, 1)

    def restore_array(self, image: np.ndarray, diagnosis: Diagnosis | None, generator=None, temperature: float = 0.0) -> np.ndarray:
        import torch

        if not self.ablation.reasoner:
            diagnosis = None
        if diagnosis is not None and diagnosis.is_clean:
            return image.astype(np.float32)  # nothing diagnosed, nothing to undo
        condition = torch.from_numpy(ablated(encode(diagnosis), self.ablation))[None]
        with torch.no_grad():
            return _tiled(lambda x: self.forward(x, condition, generator, temperature), image, self.tile, self.overlap)

    def restore(self, images: Sequence[Any], diagnoses: Sequence[Diagnosis | None], generator=None, **_: Any) -> list[np.ndarray]:
        if len(images) != len(diagnoses):
            raise ValueError(f"{len(images)} images but {len(diagnoses)} diagnoses: give one diagnosis per image")
        return [self.restore_array(as_float_image(image), diagnosis, generator) for image, diagnosis in zip(images, diagnoses)]

    def sample(self, images, diagnoses, n: int, generator, temperature: float = 1.0) -> list[list[np.ndarray]]:
        return [[self.restore_array(as_float_image(im), d, generator, temperature) for _ in range(n)] for im, d in zip(images, diagnoses)]


def _window(size: int, overlap: int) -> np.ndarray:
    ramp = np.ones(size, np.float32)
    if overlap > 0:
        edge = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, overlap + 2)[1:-1])
        ramp[:overlap], ramp[-overlap:] = edge, edge[::-1]
    return ramp


def _tiled(run, image: np.ndarray, tile: int, overlap: int) -> np.ndarray:
    """Apply `run` to overlapping tiles and blend them with raised-cosine weights."""
    import torch

    height, width = image.shape[:2]
    to_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None].float()  # noqa: E731
    if height <= tile and width <= tile:
        return run(to_tensor(image))[0].permute(1, 2, 0).numpy()
    out = np.zeros((height, width, 3), np.float32)
    weight = np.zeros((height, width, 1), np.float32)
    step = tile - 2 * overlap
    for top in list(range(0, max(height - tile, 0), step)) + [max(height - tile, 0)]:
        for left in list(range(0, max(width - tile, 0), step)) + [max(width - tile, 0)]:
            window = image[top : top + tile, left : left + tile]
            restored = run(to_tensor(window))[0].permute(1, 2, 0).numpy()
            h, w = window.shape[:2]
            blend = (_window(h, overlap if h == tile else 0)[:, None] * _window(w, overlap if w == tile else 0)[None, :])[..., None]
            out[top : top + h, left : left + w] += restored * blend
            weight[top : top + h, left : left + w] += blend
    return out / np.maximum(weight, 1e-6)


# --- training (rnr-train --stage restorer --backend lite) ------------------------------
@dataclass(frozen=True)
class LiteRestorerConfig:
    data: str = ""
    output: str = "runs/lite-restorer"
    max_steps: int = 4000
    batch_size: int = 12
    crop: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    empty_share: float = 0.1  # steps' samples trained with no diagnosis ("w/o reasoner" still works)
    # A restorer trained on true diagnoses only follows a diagnoser's errors (a wrong haze colour
    # becomes a colour cast); conditioned on this lite reasoner's own diagnoses of the training
    # images for `predicted_share` of the samples, it learns to check them against the pixels.
    reasoner: str = ""
    predicted_share: float = 0.5
    init: str = ""  # start from these weights (fine-tuning) instead of the zero-outlet network
    threads: int = 2
    seed: int = 0
    logging_steps: int = 100


def train(config: LiteRestorerConfig) -> Path:
    import torch

    from rnr.pairs import load_pairs, random_crops, train_on_crops

    torch.manual_seed(config.seed)
    pairs = load_pairs(config.data)
    conditions = torch.from_numpy(np.stack([encode(Diagnosis.from_record(r)) for r in pairs.records]))
    predicted = predicted_conditions(config.reasoner, pairs.degraded) if config.reasoner else None
    restorer = LiteRestorer.load(config.init) if config.init else LiteRestorer(model=_network())
    generator = torch.Generator().manual_seed(config.seed)

    def step_loss(rng):
        index, clean, degraded = random_crops(pairs, rng, config.batch_size, config.crop)
        condition = conditions[index].clone()
        if predicted is not None:
            chosen = torch.rand(len(index), generator=generator) < config.predicted_share
            condition[chosen] = predicted[index][chosen]
        condition[torch.rand(len(index), generator=generator) < config.empty_share] = 0
        temperature = float(rng.uniform(0, 1)) if rng.random() < 0.5 else 0.0
        restored = restorer.forward(degraded, condition, generator, temperature)
        return torch.nn.functional.l1_loss(restored, clean)

    return train_on_crops(restorer.model, step_loss, config, "lite-restorer.safetensors", "restorer", "l1")


def predicted_conditions(reasoner_weights: str, degraded_images):
    """The lite reasoner's diagnoses of uint8 training images, as condition vectors [N, 26]."""
    import torch

    from reasoner.lite import LiteReasoner

    diagnoses = LiteReasoner.load(reasoner_weights).diagnose(list(degraded_images))  # uint8 in: it converts
    return torch.from_numpy(np.stack([encode(d) for d in diagnoses]))


class LitePolicy:
    """The lite restorer as a GRPO policy (`rl.grpo.Policy`): candidates from noise and jittered strengths."""

    def __init__(self, restorer: LiteRestorer, config) -> None:
        self.restorer = restorer
        self.config = config
        restorer.model.train()
        self.reference = [p.detach().clone() for p in self.trainable_parameters()]

    def trainable_parameters(self) -> list[Any]:
        return list(self.restorer.model.parameters())

    def rollout(self, image, diagnosis, clean, seeds):
        import torch

        x = torch.from_numpy(np.ascontiguousarray(as_float_image(image))).permute(2, 0, 1)[None]
        target = torch.from_numpy(np.ascontiguousarray(as_float_image(clean))).permute(2, 0, 1)[None]
        condition = torch.from_numpy(encode(diagnosis))[None]
        if self.config.policy_proxy == "candidate":  # candidates are actions; the deterministic output moves
            mean = self.restorer.forward(x, condition)
            with torch.no_grad():
                outputs = [self._sample(x, condition, seed) for seed in seeds]
            energies = torch.stack([((mean - output) ** 2).mean() for output in outputs])
            error = ((mean - target) ** 2).mean()
        else:
            outputs = [self._sample(x, condition, seed) for seed in seeds]
            energies = torch.stack([((output - target) ** 2).mean() for output in outputs])
            error = energies.mean()
        return [output[0].detach().permute(1, 2, 0).numpy() for output in outputs], energies, error

    def _sample(self, x, condition, seed: int):
        import torch

        generator = torch.Generator().manual_seed(int(seed))
        return self.restorer.forward(x, condition, generator, self.config.sampling_temperature)

    def save(self, output: Path) -> None:
        from rnr.imageio import save_safetensors

        save_safetensors(self.restorer.model.state_dict(), Path(output) / "lite-restorer.safetensors")
