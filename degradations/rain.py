"""Rain streaks: sparse seeds elongated by a directional motion blur (paper A.2).

Seeds fall at `density` per pixel with random brightness; a line kernel of the slant
angle, length and width smears them into streaks. The streaks are alpha-blended over
the image in the rain colour, tied to the atmospheric light, with the given opacity:
``I' = I + α·(c − I)``, ``α = opacity · layer`` (a rain term that depends on the image,
as ``S(J)`` does in Eq. 1). Severity from coverage, the share of pixels where ``α``
exceeds `VISIBLE_ALPHA`: ``s = coverage · 99 + 1``.

`slant_deg` is measured from vertical, positive when streaks lean right at the bottom.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from degradations.ranges import check_range, uniform

VISIBLE_ALPHA = 0.1


@dataclass(frozen=True)
class RainConfig:
    density: tuple[float, float] = (0.0005, 0.006)
    slant_deg: tuple[float, float] = (-30.0, 30.0)
    length_px: tuple[float, float] = (10.0, 40.0)
    width_px: tuple[float, float] = (1.0, 3.0)
    opacity: tuple[float, float] = (0.4, 0.9)
    color: tuple[float, float] = (0.7, 1.0)  # used when no fog gives an atmospheric light

    def __post_init__(self) -> None:
        check_range("rain.density", self.density, 0.0, 1.0)
        check_range("rain.slant_deg", self.slant_deg, -90.0, 90.0)
        check_range("rain.length_px", self.length_px, 1.0, None)
        check_range("rain.width_px", self.width_px, 1.0, None)
        check_range("rain.opacity", self.opacity, 0.0, 1.0)
        check_range("rain.color", self.color, 0.0, 1.0)


@dataclass(frozen=True)
class RainParams:
    density: float
    slant_deg: float
    length_px: float
    width_px: float
    opacity: float
    color: tuple[float, float, float]
    seed: int  # where the seeds fall, so `layer` is a pure function of its inputs


def sample_params(
    rng: np.random.Generator,
    config: RainConfig = RainConfig(),
    fog_light: tuple[float, float, float] | None = None,
) -> RainParams:
    """Rain under fog takes the fog's atmospheric light as its colour (physical consistency)."""
    density = uniform(rng, config.density)
    slant = uniform(rng, config.slant_deg)
    length = uniform(rng, config.length_px)
    width = uniform(rng, config.width_px)
    opacity = uniform(rng, config.opacity)
    color = fog_light if fog_light is not None else tuple(uniform(rng, config.color) for _ in range(3))
    seed = int(rng.integers(0, 2**63 - 1))
    return RainParams(density, slant, length, width, opacity, tuple(float(c) for c in color), seed)


def streak_kernel(params: RainParams) -> np.ndarray:
    """A line of peak 1 at the slant angle, `length_px` long and `width_px` wide."""
    size = int(np.ceil(params.length_px)) | 1
    centre = (size - 1) / 2
    angle = np.radians(params.slant_deg)
    half = (params.length_px - 1) / 2
    dx, dy = np.sin(angle) * half, np.cos(angle) * half
    canvas = np.zeros((size, size), np.float32)
    shift = 4  # cv2 draws sub-pixel endpoints in fixed point with this many fractional bits
    scale = 1 << shift
    start = (int(round((centre - dx) * scale)), int(round((centre - dy) * scale)))
    end = (int(round((centre + dx) * scale)), int(round((centre + dy) * scale)))
    cv2.line(canvas, start, end, 1.0, 1, cv2.LINE_AA, shift)
    if params.width_px > 1.0:
        sigma = (params.width_px - 1.0) / 2
        canvas = cv2.GaussianBlur(canvas, (0, 0), sigma)
    peak = canvas.max()
    return canvas / peak if peak > 0 else canvas


def layer(shape: tuple[int, int], params: RainParams) -> np.ndarray:
    """The streak layer, float32 (H, W) in [0, 1], before opacity."""
    height, width = shape
    rng = np.random.default_rng(params.seed)
    count = int(rng.poisson(params.density * height * width))
    seeds = np.zeros((height, width), np.float32)
    rows = rng.integers(0, height, count)
    cols = rng.integers(0, width, count)
    seeds[rows, cols] = rng.uniform(0.6, 1.0, count).astype(np.float32)
    streaks = cv2.filter2D(seeds, -1, streak_kernel(params), borderType=cv2.BORDER_CONSTANT)
    return np.clip(streaks, 0.0, 1.0, out=streaks)


def alpha(streak_layer: np.ndarray, params: RainParams) -> np.ndarray:
    return streak_layer * np.float32(params.opacity)


def apply(image: np.ndarray, params: RainParams, alpha_map: np.ndarray | None = None) -> np.ndarray:
    if alpha_map is None:
        alpha_map = alpha(layer(image.shape[:2], params), params)
    color = tuple(float(c) for c in params.color) + (0.0,)
    a3 = cv2.merge([alpha_map] * 3)
    towards = cv2.subtract(color, image)  # (c − I), channel by channel
    cv2.multiply(towards, a3, dst=towards)
    return cv2.add(image, towards, dst=towards)


def coverage(alpha_map: np.ndarray) -> float:
    """Share of pixels where the rain is visible (alpha above `VISIBLE_ALPHA`)."""
    return float(np.count_nonzero(alpha_map > VISIBLE_ALPHA)) / alpha_map.size


def record_values(params: RainParams, alpha_map: np.ndarray) -> dict[str, Any]:
    """What a sample's record keeps of its rain: the parameters and the share of pixels covered."""
    return {**asdict(params), "coverage": coverage(alpha_map)}


def severity(coverage_share: float) -> float:
    """Rain score in [1, 100] from the coverage share.

    >>> severity(0.0), severity(0.5), severity(1.0)
    (1.0, 50.5, 100.0)
    """
    return float(np.clip(coverage_share * 99.0 + 1.0, 1.0, 100.0))
