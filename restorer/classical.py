"""The conventional restorer: each diagnosed degradation undone by a classical method, with its parameters.

The paper's conventional-restorer baseline, made explicit: the same `Diagnosis` that
conditions the learned restorers drives textbook inverses, applied in the reverse of the
degradation order (fog, shake, rain, noise):

- noise: non-local means with its strength set from the diagnosed mean σ;
- rain: left in place (no classical inverse of streaks takes these parameters);
- shake: Wiener deconvolution with a kernel along the diagnosed direction whose
  standard deviation along it is the diagnosed effective length;
- fog: dark-channel dehazing with the diagnosed atmospheric light, the dark-channel
  transmission map (guided-filter refined) rescaled to the diagnosed mean transmission.

It has no weights and runs anywhere: `--restorer classical` in rnr-restore and rnr-eval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import cv2
import numpy as np

from degradations import fog, noise, shake
from rnr.diagnosis import Diagnosis
from rnr.imageio import as_float_image

T_FLOOR = 0.1  # transmission floor: below it dehazing amplifies noise more than it removes haze
DARK_PATCH = 15
WIENER_BALANCE = 0.2  # regularisation: the diagnosed kernel is only an approximation of the real one


def denoise(image: np.ndarray, sigma: float) -> np.ndarray:
    """Non-local means; `sigma` is the noise's standard deviation in [0, 1] units."""
    strength = float(np.clip(sigma * 255 * 0.9, 1.0, 60.0))
    uint8 = np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)
    return cv2.fastNlMeansDenoisingColored(uint8, None, strength, strength, 5, 15).astype(np.float32) / 255


def line_kernel(direction: float, length: float, width: float = 0.5) -> np.ndarray:
    """A normalised blur kernel along `direction` (degrees): Gaussian, std `length` px along it, `width` px across.

    Gaussian, not a flat segment: the synthesizer's walk weights its middle most (a
    Gaussian over the exposure), and on its kernels this shape deconvolves better.

    >>> k = line_kernel(0.0, 2.0)
    >>> k.shape, round(float(k.sum()), 6), bool(k[5:8].sum() > 0.95)  # horizontal: the middle rows
    ((13, 13), 1.0, True)
    """
    length = max(float(length), 0.3)
    half = int(math.ceil(3 * length))
    rows, cols = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    dx, dy = math.cos(math.radians(direction)), -math.sin(math.radians(direction))  # rows grow downwards
    along, across = cols * dx + rows * dy, rows * dx - cols * dy
    kernel = np.exp(-0.5 * (along / length) ** 2 - 0.5 * (across / max(float(width), 0.3)) ** 2)
    return (kernel / kernel.sum()).astype(np.float32)


def deconvolve(image: np.ndarray, kernel: np.ndarray, balance: float = WIENER_BALANCE) -> np.ndarray:
    """Wiener deconvolution per channel, on a reflected border so the FFT's wrap-around stays outside."""
    from skimage.restoration import wiener

    pad = kernel.shape[0]
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    channels = [wiener(padded[..., c], kernel, balance, clip=False) for c in range(3)]
    restored = np.stack(channels, axis=-1)[pad:-pad, pad:-pad]
    return np.clip(restored, 0, 1).astype(np.float32)


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int = 30, eps: float = 1e-3) -> np.ndarray:
    """He et al.'s guided filter with a grey guide: edge-aware smoothing of `source`."""
    box = lambda x: cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1))  # noqa: E731
    mean_g, mean_s = box(guide), box(source)
    a = (box(guide * source) - mean_g * mean_s) / (box(guide * guide) - mean_g**2 + eps)
    b = mean_s - a * mean_g
    return box(a) * guide + box(b)


def dehaze(image: np.ndarray, light: Sequence[float], mean_transmission: float, omega: float = 0.95) -> np.ndarray:
    """``J = (I − A) / max(t, t0) + A`` with the diagnosed A and a dark-channel t scaled to `mean_transmission`."""
    light = np.clip(np.asarray(light, np.float32), 0.05, 1.0)
    normalised = image / light
    dark = cv2.erode(normalised.min(axis=2), np.ones((DARK_PATCH, DARK_PATCH), np.uint8))
    transmission = 1.0 - omega * dark
    grey = cv2.cvtColor(image.astype(np.float32), cv2.COLOR_RGB2GRAY)
    transmission = guided_filter(grey, transmission.astype(np.float32), radius=max(4, min(image.shape[:2]) // 16))
    transmission *= float(mean_transmission) / max(float(transmission.mean()), 1e-3)
    transmission = np.clip(transmission, T_FLOOR, 1.0)[..., None]
    return np.clip((image - light) / transmission + light, 0, 1).astype(np.float32)


def restore_array(image: np.ndarray, diagnosis: Diagnosis | None) -> np.ndarray:
    """Undo what the diagnosis names, newest degradation first; nothing diagnosed, nothing changed."""
    restored = np.asarray(image, np.float32)
    if diagnosis is None:
        return restored.copy()
    sigma = noise.sigma_of(diagnosis.noise)
    if sigma is not None:
        restored = denoise(restored, sigma)
    line = shake.line_of(diagnosis.shake)
    if line is not None:
        restored = deconvolve(restored, line_kernel(*line))
    haze = fog.haze_of(diagnosis.fog)
    if haze is not None:
        restored = dehaze(restored, *haze)
    return restored


@dataclass
class ClassicalRestorer:
    """Behind the same interface as the learned restorers; needs the diagnosis's parameters."""

    name: str = "classical"

    def __post_init__(self) -> None:
        try:
            import skimage.restoration  # noqa: F401 - Wiener deconvolution
        except ImportError:
            raise ValueError("the classical restorer needs scikit-image: pip install -e '.[eval]'") from None

    def restore(self, images: Sequence[Any], diagnoses: Sequence[Diagnosis | None], **_: Any) -> list[np.ndarray]:
        if len(images) != len(diagnoses):
            raise ValueError(f"{len(images)} images but {len(diagnoses)} diagnoses: give one diagnosis per image")
        return [restore_array(as_float_image(image), diagnosis) for image, diagnosis in zip(images, diagnoses)]
