"""Corruptions rnr-synth never synthesises, for bench_lite's out-of-distribution check.

imagecorruptions (Hendrycks & Dietterich's ImageNet-C set) at severities 2 and 4, and four
albumentations transforms, applied to clean photos centre-cropped to 512x512. Each kind is
made and scored on its own (`score_suite`), so a kind that fails (imagecorruptions is old
code) is reported as failed and the others still run, and only one kind's images are in
memory at a time.

    from corruptions import score_suite
    rows = score_suite(photos, reasoner, restorer)   # {kind: {...} or {"failed": reason}}
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

SIDE = 512
IMAGECORRUPTIONS = ("fog", "motion_blur", "gaussian_noise", "shot_noise", "defocus_blur", "snow", "jpeg_compression")
SEVERITIES = (2, 4)
ALBUMENTATIONS = ("RandomFog", "RandomRain", "MotionBlur", "GaussNoise")
# The kinds that imitate one of our four classes: the diagnosis should name it.
CLASS_OF = {
    "fog": "fog", "RandomFog": "fog",
    "motion_blur": "shake", "MotionBlur": "shake",
    "gaussian_noise": "noise", "shot_noise": "noise", "GaussNoise": "noise",
    "RandomRain": "rain",
}


def kinds() -> list[str]:
    """Every kind's name, 'fog/2' for imagecorruptions' fog at severity 2, 'RandomFog' for albumentations'."""
    return [f"{name}/{s}" for name in IMAGECORRUPTIONS for s in SEVERITIES] + list(ALBUMENTATIONS)


def base_of(kind: str) -> str:
    return kind.split("/")[0]


def square(image: np.ndarray, side: int = SIDE) -> np.ndarray:
    """The centred square of the photo, resized to side x side (area filter when shrinking)."""
    import cv2

    height, width = image.shape[:2]
    short = min(height, width)
    top, left = (height - short) // 2, (width - short) // 2
    crop = image[top : top + short, left : left + short]
    interpolation = cv2.INTER_AREA if short > side else cv2.INTER_CUBIC
    return np.clip(cv2.resize(crop, (side, side), interpolation=interpolation), 0, 1).astype(np.float32)


class _NumpyWithFloat_(types.ModuleType):
    """numpy as imagecorruptions 1.1.2 expects it: `np.float_` was removed in NumPy 2.0 (plasma_fractal, used by fog, needs it)."""

    float_ = np.float64

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


@contextlib.contextmanager
def _imagecorruptions_shim() -> Iterator[None]:
    """Give imagecorruptions' module its own numpy view while we call it, and put the real one back after."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its pkg_resources import warns on every fresh interpreter
        from imagecorruptions import corruptions
    original = corruptions.np
    corruptions.np = _NumpyWithFloat_("numpy")
    try:
        yield
    finally:
        corruptions.np = original


def _albumentation(name: str) -> Any:
    """The transform with parameters in the range where it is a visible but plausible degradation (albumentations 2.0 names)."""
    import albumentations as A

    factories: dict[str, Callable[[], Any]] = {
        "RandomFog": lambda: A.RandomFog(fog_coef_range=(0.3, 0.5), p=1),
        "RandomRain": lambda: A.RandomRain(p=1),
        "MotionBlur": lambda: A.MotionBlur(blur_limit=(7, 15), p=1),
        "GaussNoise": lambda: A.GaussNoise(std_range=(0.05, 0.15), p=1),
    }
    return factories[name]()


def make_corrupted(kind: str, photos: Sequence[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    """The photos (float, 512x512) under one kind, as float32 in [0, 1]; photo i always gets the same draw.

    imagecorruptions draws from numpy's global RNG, so it is seeded per photo here; the
    caller's global RNG state is saved and put back, so nothing outside sees the seeding.
    """
    from rnr.imageio import to_float, to_uint8

    corrupted = []
    if "/" in kind:
        name, severity = base_of(kind), int(kind.split("/")[1])
        state = np.random.get_state()
        try:
            with _imagecorruptions_shim():
                from imagecorruptions import corrupt

                for i, photo in enumerate(photos):
                    np.random.seed(seed + i)
                    out = corrupt(to_uint8(photo), corruption_name=name, severity=severity)
                    corrupted.append(to_float(np.asarray(out, np.uint8)[..., :3]))
        finally:
            np.random.set_state(state)
        return corrupted
    import albumentations as A

    for i, photo in enumerate(photos):
        # a fresh seeded pipeline per photo: the draw depends on (seed, i) only, not on the photos before it
        pipeline = A.Compose([_albumentation(kind)], seed=seed + i)
        corrupted.append(to_float(pipeline(image=to_uint8(photo))["image"]))
    return corrupted


# Motion blurs whose kernel is one-sided: imagecorruptions' (a half-Gaussian from the origin) and
# albumentations' (allow_shifted). Their blurred photo is displaced from the clean one by the kernel's
# centroid (about 9 px at imagecorruptions' severity 4), which blind deconvolution cannot know: rnr
# centres the kernel it estimates by centroid, as rnr-synth's shake is centred.
ONE_SIDED_BLURS = ("motion_blur", "MotionBlur")
ALIGNED_BORDER = 24  # px cropped from every side before the aligned PSNR: the shift moves the border in


def kernel_offsets(kind: str, count: int, seed: int = 0) -> list[tuple[float, float]]:
    """(dy, dx) of the blur kernel's centroid for photo i of `count` under `kind`: the same draws, applied to an impulse."""
    impulse = np.zeros((SIDE, SIDE, 3), np.float32)
    impulse[SIDE // 2, SIDE // 2] = 1.0
    offsets = []
    for response in make_corrupted(kind, [impulse] * count, seed):
        weights = response.mean(axis=2).astype(np.float64)
        rows, cols = np.mgrid[0:SIDE, 0:SIDE]
        total = weights.sum()
        offsets.append((float((weights * rows).sum() / total - SIDE // 2), float((weights * cols).sum() / total - SIDE // 2)))
    return offsets


def aligned_change(photos: Sequence[np.ndarray], corrupted: Sequence[np.ndarray], restored: Sequence[np.ndarray],
                   offsets: Sequence[tuple[float, float]]) -> float:
    """The mean PSNR change against each clean photo moved by its kernel's centroid (bilinear), borders cropped."""
    from scipy import ndimage

    from rnr.metrics import psnr

    inner = (slice(ALIGNED_BORDER, -ALIGNED_BORDER), slice(ALIGNED_BORDER, -ALIGNED_BORDER))
    changes = []
    for photo, before, after, (dy, dx) in zip(photos, corrupted, restored, offsets):
        moved = ndimage.shift(photo, (dy, dx, 0), order=1, mode="nearest")[inner]
        changes.append(psnr(np.asarray(after)[inner], moved) - psnr(np.asarray(before)[inner], moved))
    return float(np.mean(changes))


def score_kind(kind: str, photos: Sequence[np.ndarray], corrupted: Sequence[np.ndarray], reasoner: Any, restorer: Any,
               seed: int = 0) -> dict:
    """Mean PSNR of the corrupted and restored photos against the clean ones, the change, and how often the class is named.

    For a one-sided motion blur, also "change_aligned": the change against the clean photos
    moved by the kernel's centroid, which tells deblurring apart from the displacement.
    """
    from rnr.metrics import psnr

    from rnr.hedge import restore_all

    diagnoses, hedges = (list(column) for column in zip(*reasoner.diagnose_hedged(list(corrupted))))
    restored = restore_all(restorer, list(corrupted), diagnoses, hedges)
    before = [psnr(c, p) for c, p in zip(corrupted, photos)]
    after = [psnr(r, p) for r, p in zip(restored, photos)]
    row = {
        "count": len(photos),
        "psnr_corrupted": float(np.mean(before)),
        "psnr_restored": float(np.mean(after)),
        "change": float(np.mean(np.subtract(after, before))),
        "class": CLASS_OF.get(base_of(kind)),
        "called": {name: float(np.mean([name in d.present() for d in diagnoses])) for name in ("fog", "shake", "rain", "noise")},
    }
    if row["class"]:
        row["named"] = row["called"][row["class"]]
    if base_of(kind) in ONE_SIDED_BLURS:
        row["change_aligned"] = aligned_change(photos, corrupted, restored, kernel_offsets(kind, len(photos), seed))
    return row


def score_suite(photos: Sequence[np.ndarray], reasoner: Any, restorer: Any, seed: int = 0, log: Callable[[str], None] = print) -> dict:
    """Every kind scored on the photos (already `square`d); a kind that cannot be made is {"failed": its one-line reason}."""
    rows = {}
    for kind in kinds():
        try:
            corrupted = make_corrupted(kind, photos, seed)
        except Exception as error:  # noqa: BLE001 - one broken third-party kind must not stop the suite
            reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            log(f"corruption {kind}: failed ({reason})")
            rows[kind] = {"failed": reason, "class": CLASS_OF.get(base_of(kind))}
            continue
        rows[kind] = score_kind(kind, photos, corrupted, reasoner, restorer, seed)
    return rows
