"""One rnr-synth sample: its crop of the source photo, softness, camera look, depth and degradations."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import cv2
import numpy as np

from degradations import depth as depth_priors
from degradations.compose import Sample, apply_plan, plan
from rnr.imageio import to_float, to_uint8
from rnr.synth_inputs import InputRef, load_input, open_dataset
from rnr.synth_job import Job, source_index


@dataclass(frozen=True)
class Crop:
    """A square window of the (possibly upscaled) source, resized to `size`."""

    x: int
    y: int
    side: int
    size: int
    scale: float = 1.0  # > 1 when the source was smaller than `size` and was upscaled first

    def apply(self, array: np.ndarray, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
        if self.scale != 1.0:
            height, width = array.shape[:2]
            new = (max(self.size, round(width * self.scale)), max(self.size, round(height * self.scale)))
            array = cv2.resize(array, new, interpolation=cv2.INTER_CUBIC)
        window = array[self.y : self.y + self.side, self.x : self.x + self.side]
        if self.side == self.size:
            return np.ascontiguousarray(window)
        return cv2.resize(window, (self.size, self.size), interpolation=interpolation)


def choose_crop(shape: tuple[int, int], rng: np.random.Generator, size: int, fit: str) -> Crop:
    height, width = shape
    scale = 1.0
    if min(height, width) < size:  # small inputs are upscaled (bicubic) until they cover the crop
        scale = size / min(height, width)
        height, width = max(size, round(height * scale)), max(size, round(width * scale))
    shortest = min(height, width)
    if fit == "resize":
        return Crop((width - shortest) // 2, (height - shortest) // 2, shortest, size, scale)
    side = int(rng.integers(size, shortest + 1))
    x = int(rng.integers(0, width - side + 1))
    y = int(rng.integers(0, height - side + 1))
    return Crop(x, y, side, size, scale)


class DepthSource:
    """Lazily computed depth for one sample, with the same crop as the image."""

    def __init__(self, source: str, compute: Callable[[np.ndarray], np.ndarray]) -> None:
        self.source = source
        self._compute = compute

    def __call__(self, clean: np.ndarray) -> np.ndarray:
        return self._compute(clean)


@functools.lru_cache(maxsize=2)
def depth_model(model: str) -> depth_priors.ModelDepth:
    """The loaded depth-estimation model (once per process); ValueError naming it when it cannot load."""
    return depth_priors.ModelDepth(model).load()


def depth_for(job: Job, ref: InputRef, source_shape: tuple[int, int], crop: Crop) -> DepthSource | None:
    """The first available of: a supplied file, a dataset column, a model; None means the heuristic."""
    if job.depth_dir is not None:
        found = depth_priors.find_depth_file(job.depth_dir, ref.stem)
        if found is not None:

            def from_file(_clean: np.ndarray) -> np.ndarray:
                raw = depth_priors.fit_to(depth_priors.read_depth_file(found), source_shape)
                return crop.apply(depth_priors.normalize(raw, job.depth_kind), cv2.INTER_LINEAR)

            return DepthSource(f"file:{found.name}", from_file)
    if ref.depth_column is not None:
        cell = open_dataset(ref.dataset)[ref.row][ref.depth_column]
        if cell is not None:

            def from_column(_clean: np.ndarray) -> np.ndarray:
                raw = _decode_depth_cell(cell)
                normalized = depth_priors.normalize(depth_priors.fit_to(raw, source_shape), job.depth_kind)
                return crop.apply(normalized, cv2.INTER_LINEAR)

            return DepthSource(f"column:{ref.depth_column}", from_column)
    if job.depth_model is not None:
        model = depth_model(job.depth_model)
        return DepthSource(model.source, model)
    return None


def _decode_depth_cell(cell: Any) -> np.ndarray:
    if isinstance(cell, dict) and cell.get("bytes"):
        raw = cv2.imdecode(np.frombuffer(cell["bytes"], np.uint8), cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH)
    else:
        raw = np.asarray(cell, np.float32)
    raw = np.asarray(raw, np.float32)
    return raw[..., 0] if raw.ndim == 3 else raw


SOFTNESS_STREAM = 1
LOOK_STREAM = 2


def _crop_sample(job: Job, index: int):
    """The first draws of sample `index`: its photo, crop and softness (degradations are drawn after)."""
    rng = np.random.default_rng([job.seed, index])
    ref = job.inputs[source_index(job.seed, index, len(job.inputs))]
    source = load_input(ref)
    crop = choose_crop(source.shape[:2], rng, job.size, job.fit)
    clean = to_float(to_uint8(crop.apply(source)))  # quantised first, so replay from the stored PNG is exact
    sigma = softness(job, index)
    if sigma:
        clean = to_float(to_uint8(cv2.GaussianBlur(clean, (0, 0), sigma)))
    camera = look(job, index)
    if camera and float(np.ptp(clean, axis=2).max()) == 0.0:
        camera["white_balance"] = [1.0, 1.0, 1.0]  # a greyscale photo stays greyscale
    if camera:
        clean = apply_look(clean, camera)
    return rng, ref, source, crop, clean, sigma, camera


def softness(job: Job, index: int) -> float:
    """The Gaussian sigma (px) that softens sample `index`'s clean crop; 0 for most.

    Drawn from a generator of its own, so sets made before `soft_share` existed (or with
    it at 0) keep every draw they had.
    """
    rng = np.random.default_rng([job.seed, index, SOFTNESS_STREAM])
    if rng.random() >= job.config.soft_share:
        return 0.0
    return round(float(rng.uniform(*job.config.soft_sigma)), 3)


def look(job: Job, index: int) -> dict[str, Any]:
    """Sample `index`'s camera look: {"gain", "white_balance" (r, g, b), "jpeg" (quality or 0)}, or {} for most.

    Its own generator, as for softness: sets made without `look_share` keep every draw.
    """
    rng = np.random.default_rng([job.seed, index, LOOK_STREAM])
    config = job.config
    if rng.random() >= config.look_share:
        return {}
    balance = rng.uniform(*config.look_white_balance, size=3)
    quality = int(round(rng.uniform(*config.look_jpeg))) if rng.random() < 0.5 else 0
    return {"gain": round(float(rng.uniform(*config.look_gain)), 3), "white_balance": [round(float(b), 3) for b in balance / balance.mean()], "jpeg": quality}


def apply_look(clean: np.ndarray, camera: dict[str, Any]) -> np.ndarray:
    """Exposure and white balance (clipped, as a camera clips), then JPEG at the drawn quality; quantised."""
    looked = to_uint8(np.clip(clean * camera["gain"] * np.asarray(camera["white_balance"], np.float32), 0, 1))
    if camera["jpeg"]:
        ok, encoded = cv2.imencode(".jpg", looked[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, camera["jpeg"]])
        looked = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1]
    return to_float(np.ascontiguousarray(looked))


def clean_crop(job: Job, index: int) -> np.ndarray:
    """Sample `index`'s clean image, without degrading it (for captioning)."""
    return _crop_sample(job, index)[4]


def make_sample(job: Job, index: int) -> tuple[Sample, dict[str, Any]]:
    """Sample `index` of the job: its crop, its degradations, and its full record."""
    rng, ref, source, crop, clean, sigma, camera = _crop_sample(job, index)
    depth = depth_for(job, ref, source.shape[:2], crop)
    if depth is None:
        sample = apply_plan(clean, plan(rng, job.config))
    else:
        sample = apply_plan(clean, plan(rng, job.config), depth, depth.source)
    scene = job.scene_of_index.get(index, job.caption_of_stem.get(ref.stem, ""))
    record = {
        "index": index,
        "seed": job.seed,
        "source": ref.name,
        "stem": ref.stem,
        "crop": [crop.x, crop.y, crop.side],
        "upscaled": crop.scale != 1.0,
        "soft_sigma": sigma,
        **({"look": camera} if camera else {}),
        "source_size": [int(source.shape[1]), int(source.shape[0])],
        **sample.record,
        "scene": scene,
    }
    sample.record = record
    return sample, record
