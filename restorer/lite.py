"""The lite restorer: a compact NAFNet-style U-Net conditioned on the diagnosis, shipped with the package.

It restores at any size on a CPU. The diagnosis reaches it twice (the paper's point,
that reasoning guides restoration): as a vector (`rnr.encoding`) that modulates every
block through FiLM, and as physical priors (`restorer.priors`) — the image deconvolved
with the diagnosed shake kernel, and that with the diagnosed fog inverted — fed beside
the input. The network is `restorer.lite_net.LiteRestorationNet`; its output is the
input plus a residual.

Do no harm: a photo diagnosed clean comes back unchanged; a greyscale photo comes back
greyscale (the output's channels are averaged, and the fog prior drops the airlight's
colour); training shows the network wrong diagnoses too (`restorer.lite_train`), so that
it checks them against the pixels.

Sampling (for GRPO): candidates differ by an injected noise channel and by jittered
diagnosis strengths; the default (`temperature=0`) is deterministic. Large photos are
processed in overlapping tiles blended with a smooth window, so memory stays bounded.
"""

from __future__ import annotations

import itertools
import math

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from restorer.kernels import estimate_kernel, textured_window
from restorer.priors import GREY_SPREAD, at_scale, cleaned, haze_airlight, map_haze, nlm_denoise, physical_priors, shake_sizes, with_image_airlight
from restorer.prompts import Ablation
from rnr.diagnosis import DEGRADATIONS, Diagnosis
from rnr.encoding import encode
from rnr.imageio import as_float_image

WEIGHTS = Path(__file__).resolve().parents[1] / "rnr" / "weights" / "lite-restorer.safetensors"
# The default is the stage-3 (GRPO) result; the stage-2 (SFT) one ships beside it for the w/o RL ablation.
SFT_WEIGHTS = WEIGHTS.with_name("lite-restorer-sft.safetensors")
AIRLIGHT_SIDE = 1024  # the airlight is measured on the photo reduced to this long side (memory, not accuracy)
# The shake kernel is estimated on the photo's most textured window of this side, at full resolution. On validation
# photos (40 shaken, 512 px, true diagnosis, stage-2d weights) 384 px gained +1.95 dB against +1.88 for the whole
# 512, in 0.22 s instead of 0.37 (a shaken 512² photo took 0.59 s in all with 512).
KERNEL_WINDOW = 384


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
        import torch
        from safetensors.torch import load_file

        from restorer.lite_net import LiteRestorationNet

        path = Path(weights) if weights else WEIGHTS
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no lite restorer weights; reinstall rnr, or train them: rnr-train --stage restorer --backend lite")
        with torch.device("meta"):  # no random initial weights drawn (nor global RNG used): the file's are assigned
            model = LiteRestorationNet()
        try:
            model.load_state_dict(load_file(str(path)), assign=True)
        except RuntimeError:
            raise ValueError(f"{path}: not lite restorer v2 weights (an older network's?); retrain: rnr-train --stage restorer --backend lite") from None
        # Channels-last: OpenCV-style pixel-interleaved memory, in which oneDNN's 1x1 and depthwise
        # convolutions ran the whole network ~20% faster on a CPU (benchmarks/bench_restorer_net.py).
        return cls(model=model.to(memory_format=torch.channels_last).eval(), name=str(path), **options)

    from_pretrained = load

    def forward(self, image, condition, generator=None, temperature: float = 0.0, photo_haze=None, photo_kernels=None,
                denoised=None):
        """Differentiable: (B, 3, H, W) in [0, 1] and (B, VECTOR_SIZE) → restored (B, 3, H, W).

        `photo_haze` (B,): the whole photo's fog-map haze (`photo_haze`) when `image` is a tile of it;
        `photo_kernels` (B or 1, k, k): its shake kernels estimated from the photo (`photo_kernel`);
        `denoised` (B, 3, H, W): `image` through `nlm_denoise` where it is made already (`photo_denoised`).
        """
        import torch

        height, width = image.shape[-2:]
        pad_h, pad_w = (-height) % 8, (-width) % 8
        padded = torch.nn.functional.pad(image, (0, pad_w, 0, pad_h), mode="replicate")
        if denoised is not None:
            denoised = torch.nn.functional.pad(denoised, (0, pad_w, 0, pad_h), mode="replicate")
        noise = torch.zeros_like(padded[:, :1])
        if temperature > 0:
            noise = temperature * torch.randn(noise.shape, generator=generator)
            condition = jitter(condition, generator, 0.15 * temperature)
        deblurred, prior = physical_priors(padded, condition, photo_haze, photo_kernels, denoised)
        output = self.model(padded, deblurred, prior, noise, condition)
        return output[..., :height, :width].clamp(0, 1)

    def restore_array(self, image: np.ndarray, diagnosis: Diagnosis | None, generator=None, temperature: float = 0.0) -> np.ndarray:
        import torch

        if not self.ablation.reasoner:
            diagnosis = None
        if diagnosis is not None and diagnosis.is_clean:
            return image.astype(np.float32)  # nothing diagnosed, nothing to undo
        condition = self.condition_for(image, diagnosis)
        with torch.no_grad():
            in_tiles = max(image.shape[:2]) > self.tile
            haze = photo_haze(image, condition) if in_tiles else None  # a photo restored whole measures its own
            kernel = photo_kernel(image, condition)
            denoised = photo_denoised(image, condition) if in_tiles else None  # shared by the tiles
            restored = tiled(lambda x, d=None: self.forward(x, condition, generator, temperature, haze, kernel, d),
                             image, self.tile, self.overlap, beside=denoised)
        return keep_greyscale(image, restored)

    def condition_for(self, image: np.ndarray, diagnosis: Diagnosis | None):
        """(1, VECTOR_SIZE): the diagnosis encoded (and ablated), with the photo's own airlight where fog is diagnosed."""
        import torch

        condition = torch.from_numpy(ablated(encode(diagnosis), self.ablation))[None]
        return with_image_airlight(condition, photo_airlight(image))

    def restore(self, images: Sequence[Any], diagnoses: Sequence[Diagnosis | None], generator=None, **_: Any) -> list[np.ndarray]:
        if len(images) != len(diagnoses):
            raise ValueError(f"{len(images)} images but {len(diagnoses)} diagnoses: give one diagnosis per image")
        return [self.restore_array(as_float_image(image), diagnosis, generator) for image, diagnosis in zip(images, diagnoses)]

    def sample(self, images, diagnoses, n: int, generator, temperature: float = 1.0) -> list[list[np.ndarray]]:
        return [[self.restore_array(as_float_image(im), d, generator, temperature) for _ in range(n)] for im, d in zip(images, diagnoses)]


def reduced_photo(image: np.ndarray, side: int = AIRLIGHT_SIDE):
    """((1, 3, h, w) tensor, scale): the photo area-reduced so its long side is at most `side` px (scale ≤ 1)."""
    import cv2
    import torch

    scale = min(side / max(image.shape[:2]), 1.0)
    if scale < 1:
        image = cv2.resize(image, (max(round(image.shape[1] * scale), 1), max(round(image.shape[0] * scale), 1)), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(np.ascontiguousarray(image, np.float32)).permute(2, 0, 1)[None], scale


def photo_airlight(image: np.ndarray, side: int = AIRLIGHT_SIDE):
    """(1, 3) tensor: `restorer.priors.haze_airlight` of the whole photo, reduced to `side` px (a global colour)."""
    return haze_airlight(reduced_photo(image, side)[0])


def photo_haze(image: np.ndarray, condition, side: int = AIRLIGHT_SIDE):
    """(1,): `restorer.priors.map_haze` of the photo's `cleaned` image, reduced to `side` px, so all its tiles agree.

    The condition is reduced with it (`restorer.priors.at_scale`).
    """
    small, scale = reduced_photo(image, side)
    reduced = at_scale(condition, scale)
    return map_haze(cleaned(small, reduced), reduced)


def photo_denoised(image: np.ndarray, condition) -> np.ndarray | None:
    """(H, W, 3): the whole photo through the denoising prior (`nlm_denoise`), for its tiles to share;
    None where no noise is diagnosed. Denoised tile by tile, their overlaps were denoised twice (a
    fifth of the non-local means time at 4000x3000), and each tile's border without its neighbours."""
    import torch

    if condition[0, DEGRADATIONS.index("noise")] <= 0.5:
        return None
    photo = torch.from_numpy(np.ascontiguousarray(image, np.float32)).permute(2, 0, 1)[None]
    return nlm_denoise(photo, condition[:1])[0].permute(1, 2, 0).numpy()


def photo_kernel(image: np.ndarray, condition, side: int = KERNEL_WINDOW):
    """(1, k, k) tensor: the shake kernel estimated from the photo (`restorer.kernels`); None where no shake, or rain, is diagnosed.

    The size k is the diagnosed one. It is estimated on the most textured `side`² window, at full
    resolution (a kernel is in pixels), denoised first where noise is diagnosed, as the prior is.
    """
    import torch

    size = shake_sizes(condition[:1])[0]
    if size is None or condition[0, DEGRADATIONS.index("rain")] >= 0.5:
        # Rain falls after the shake, so its streaks are sharp: validation photos with rain and shake
        # (30, true diagnosis, stage-2d weights) gained +2.07 dB with the estimate, +4.49 with the line kernel.
        return None
    if min(image.shape[:2]) < 4 * size:  # too few pixels to tell a kernel's shape: the line kernel
        return None
    grey = image.mean(axis=2) if image.ndim == 3 else image
    top, left = textured_window(grey, side)
    window = torch.from_numpy(np.ascontiguousarray(image[top : top + side, left : left + side], np.float32)).permute(2, 0, 1)[None]
    denoised = nlm_denoise(window, condition[:1])[0].mean(dim=0).numpy()
    return torch.from_numpy(estimate_kernel(denoised, size))[None]


def channel_spread(image: np.ndarray) -> float:
    """The largest difference between two channels of one pixel: np.ptp over the channel axis, which
    took 1.0 s on a 4000x3000 photo (a reduction along a 3-long axis); a maximum per channel pair takes 0.05 s.

    >>> round(channel_spread(np.array([[[0.2, 0.5, 0.1], [0.3, 0.3, 0.3]]], np.float32)), 6)
    0.4
    """
    pairs = itertools.combinations(range(image.shape[-1]), 2)
    return max((float(np.abs(image[..., a] - image[..., b]).max(initial=0.0)) for a, b in pairs), default=0.0)


def keep_greyscale(image: np.ndarray, restored: np.ndarray) -> np.ndarray:
    """A greyscale input's output is greyscale: its channels averaged (a colour input's is untouched)."""
    if image.ndim == 3 and channel_spread(image) <= GREY_SPREAD:
        return np.repeat(restored.mean(axis=2, keepdims=True), 3, axis=2)
    return restored


def _window(size: int, overlap: int) -> np.ndarray:
    ramp = np.ones(size, np.float32)
    if overlap > 0:
        edge = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, overlap + 2)[1:-1])
        ramp[:overlap], ramp[-overlap:] = edge, edge[::-1]
    return ramp


def tile_spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """(start, size) of the tiles along one side: the fewest of at most `tile` px that overlap by
    2 * `overlap`, all of one size and spread evenly, so that no tile is mostly a repeat of its
    neighbour (a last tile pushed back to the border was, up to 1.4x the photo's pixels at 4000x3000).

    >>> tile_spans(300, 512, 32)
    [(0, 300)]
    >>> tile_spans(3000, 512, 32)
    [(0, 484), (419, 484), (839, 484), (1258, 484), (1677, 484), (2097, 484), (2516, 484)]
    """
    if length <= tile:
        return [(0, length)]
    count = math.ceil((length - 2 * overlap) / (tile - 2 * overlap))
    size = math.ceil((length + (count - 1) * 2 * overlap) / count)
    return [(int(start), size) for start in np.linspace(0, length - size, count).round()]


def tiled(run, image: np.ndarray, tile: int, overlap: int, beside: np.ndarray | None = None) -> np.ndarray:
    """Apply `run` to overlapping tiles (`tile_spans`) and blend them with raised-cosine weights.

    `beside`: an array of the image's height and width whose same tile `run` gets as a second argument.
    """
    import torch

    if tile <= 2 * overlap:
        raise ValueError(f"tile {tile} must be more than twice the overlap {overlap}")
    height, width = image.shape[:2]

    def arguments(top: int, bottom: int, left: int, right: int) -> list:
        """The tile of the image (and of `beside`) as (1, C, h, w) tensors."""
        return [torch.from_numpy(np.ascontiguousarray(a[top:bottom, left:right])).permute(2, 0, 1)[None].float()
                for a in (image, beside) if a is not None]

    if height <= tile and width <= tile:
        return run(*arguments(0, height, 0, width))[0].permute(1, 2, 0).numpy()
    out = np.zeros((height, width, 3), np.float32)
    weight = np.zeros((height, width, 1), np.float32)
    rows, columns = tile_spans(height, tile, overlap), tile_spans(width, tile, overlap)
    ramp_rows = _window(rows[0][1], overlap if len(rows) > 1 else 0)
    ramp_columns = _window(columns[0][1], overlap if len(columns) > 1 else 0)
    blend = (ramp_rows[:, None] * ramp_columns[None, :])[..., None]
    for top, h in rows:
        for left, w in columns:
            restored = run(*arguments(top, top + h, left, left + w))[0].permute(1, 2, 0).numpy()
            out[top : top + h, left : left + w] += restored * blend
            weight[top : top + h, left : left + w] += blend
    return out / np.maximum(weight, 1e-6)


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

        image = as_float_image(image)
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
        target = torch.from_numpy(np.ascontiguousarray(as_float_image(clean))).permute(2, 0, 1)[None]
        condition = self.restorer.condition_for(image, diagnosis)
        kernel = photo_kernel(image, condition)
        if self.config.policy_proxy == "candidate":  # candidates are actions; the deterministic output moves
            mean = self.restorer.forward(x, condition, photo_kernels=kernel)
            with torch.no_grad():
                outputs = [self._sample(x, condition, seed, kernel) for seed in seeds]
            energies = torch.stack([((mean - output) ** 2).mean() for output in outputs])
            error = ((mean - target) ** 2).mean()
        else:
            outputs = [self._sample(x, condition, seed, kernel) for seed in seeds]
            energies = torch.stack([((output - target) ** 2).mean() for output in outputs])
            error = energies.mean()
        return [output[0].detach().permute(1, 2, 0).numpy() for output in outputs], energies, error

    def _sample(self, x, condition, seed: int, kernel=None):
        import torch

        generator = torch.Generator().manual_seed(int(seed))
        return self.restorer.forward(x, condition, generator, self.config.sampling_temperature, photo_kernels=kernel)

    def save(self, output: Path) -> None:
        from rnr.imageio import save_safetensors

        save_safetensors(self.restorer.model.state_dict(), Path(output) / "lite-restorer.safetensors")
