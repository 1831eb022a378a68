"""rnr-synth's engine: clean photos → random crops → degradations → a training set on disk.

Every sample is a pure function of (job, index): its generator is seeded from
``(seed, index)`` and its source photo from a seeded permutation, so the same command
writes the same bytes whatever the worker count, shards are disjoint index ranges that
merge into exactly the unsharded result, and a killed run resumes chunk by chunk.

On disk (``--output OUT``):
- ``rnr-synth.json`` — the manifest: the job (what makes two runs the same dataset),
  whether it is complete, and the inputs that were skipped and why.
- ``hf`` format: a `datasets` dataset (``datasets.load_from_disk(OUT)``);
  ``folder`` format: ``images/*.png`` plus ``records.jsonl`` and ``sft.jsonl``.
- ``.parts/`` while running: one finished chunk per entry, each written to a temporary
  name and renamed, so an interrupted run never leaves half a chunk behind.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import math
import multiprocessing
import os
import shutil
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import cv2
import numpy as np

from degradations import depth as depth_priors
from degradations.compose import ORDER, Sample, SynthConfig, apply_plan, plan
from rnr import BUNDLED_PHOTOS, __version__
from rnr.config import to_dict
from rnr.diagnosis import Diagnosis, clip_words
from rnr.imageio import (
    IMAGE_SUFFIXES,
    MAX_PIXELS,
    ImageReadError,
    ImageTooLargeError,
    atomic_write_text,
    decode_image,
    encode_png,
    lift_pil_pixel_limit,
    to_float,
    to_uint8,
)

MANIFEST = "rnr-synth.json"
PARTS = ".parts"
FORMATS = ("hf", "folder")
FITS = ("crop", "resize")
BUNDLED = "bundled"
MAX_CHUNK = 64


class SynthError(ValueError):
    """A problem with the job as asked (inputs, output folder, options); one line, with the fix."""


# --- inputs ------------------------------------------------------------------------
@dataclass(frozen=True)
class InputRef:
    """One clean photo: a file, or a row of a `datasets` dataset on disk."""

    name: str  # what messages call it
    stem: str  # how depth maps and captions find it
    path: str | None = None
    dataset: str | None = None
    row: int | None = None
    image_column: str = "image"
    depth_column: str | None = None
    size_bytes: int = 0
    digest: str = ""  # of the encoded bytes (check_input fills it): a photo replaced under the same name differs


def collect_inputs(specs: Sequence[str]) -> list[InputRef]:
    """Files, folders (their image files, recursively), globs, `datasets` folders, or "bundled"."""
    refs: list[InputRef] = []
    for spec in specs:
        if spec == BUNDLED:
            spec = str(BUNDLED_PHOTOS)
        path = Path(spec)
        if path.is_dir() and _is_hf_dataset(path):
            refs.extend(_dataset_refs(path))
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            refs.extend(_file_ref(p) for p in files if not any(part.startswith(".") for part in p.parts[-2:]))
        elif path.is_file():
            refs.append(_file_ref(path))
        else:
            matches = sorted(Path(m) for m in glob.glob(spec, recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                raise SynthError(f"--input {spec}: no such file or folder, and no file matches it as a glob")
            refs.extend(_file_ref(p) for p in files)
    if not refs:
        raise SynthError(f"--input {' '.join(specs)}: no image files found (looked for {', '.join(IMAGE_SUFFIXES)})")
    return refs


def _file_ref(path: Path) -> InputRef:
    return InputRef(name=str(path), stem=path.stem, path=str(path), size_bytes=path.stat().st_size)


def _is_hf_dataset(path: Path) -> bool:
    return (path / "state.json").is_file() and (path / "dataset_info.json").is_file()


def _dataset_refs(path: Path) -> list[InputRef]:
    from datasets import load_from_disk

    dataset = load_from_disk(str(path))
    columns = dataset.column_names
    image_column = next((c for c in ("image", "clean") if c in columns), None)
    if image_column is None:
        raise SynthError(f"--input {path}: a datasets input needs an 'image' (or 'clean') column; it has {columns}")
    depth_column = "depth" if "depth" in columns else None
    stems = dataset["stem"] if "stem" in columns else [f"{path.name}-{i:06d}" for i in range(len(dataset))]
    return [
        InputRef(f"{path}[{i}]", str(stems[i]), dataset=str(path), row=i, image_column=image_column, depth_column=depth_column)
        for i in range(len(dataset))
    ]


@functools.lru_cache(maxsize=4)
def _open_dataset(path: str):
    from datasets import Image, load_from_disk

    dataset = load_from_disk(path)
    for column, feature in dataset.features.items():
        if isinstance(feature, Image):  # raw bytes, so decoding goes through our own reader
            dataset = dataset.cast_column(column, Image(decode=False))
    return dataset


class _DecodedCache:
    """Least-recently-used decoded photos, bounded in bytes (a 12 MP photo is 144 MB as float32)."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._images: OrderedDict[InputRef, np.ndarray] = OrderedDict()
        self._bytes = 0

    def get(self, ref: InputRef) -> np.ndarray:
        if ref in self._images:
            self._images.move_to_end(ref)
            return self._images[ref]
        image = decode_input(ref)
        image.flags.writeable = False  # shared by every crop taken from it
        self._images[ref] = image
        self._bytes += image.nbytes
        while self._bytes > self.budget and len(self._images) > 1:
            _, evicted = self._images.popitem(last=False)
            self._bytes -= evicted.nbytes
        return image


_CACHE = _DecodedCache(budget_bytes=1 << 30)  # per process; samples cycle through the inputs


def load_input(ref: InputRef) -> np.ndarray:
    """The decoded photo, from this process's cache when it was used recently."""
    return _CACHE.get(ref)


def input_bytes(ref: InputRef) -> bytes:
    """The input's encoded image, from its file or its dataset cell."""
    if ref.path is not None:
        return Path(ref.path).read_bytes()
    cell = _open_dataset(ref.dataset)[ref.row][ref.image_column]
    if cell is None or not cell.get("bytes"):
        raise ImageReadError(f"{ref.name}: empty image cell")
    return cell["bytes"]


def decode_input(ref: InputRef, max_pixels: int | None = None) -> np.ndarray:
    """The decoded photo; no pixel limit by default, as inputs are checked (`check_input`) before use."""
    return decode_image(input_bytes(ref), name=ref.name, max_pixels=max_pixels)


def check_input(ref: InputRef, max_pixels: int | None = MAX_PIXELS) -> tuple[InputRef, str | None]:
    """(the input with its content digest, None) if it decodes, else (it, why not: one line naming the file)."""
    try:
        data = input_bytes(ref)
        image = decode_image(data, name=ref.name, max_pixels=max_pixels)
    except ImageTooLargeError as error:
        return ref, f"{error}; to use it anyway pass --max-pixels {max(error.pixels, max_pixels or 0)}"
    except ImageReadError as error:
        return ref, str(error)
    except OSError as error:
        return ref, f"{ref.name}: cannot read ({error})"
    if min(image.shape[:2]) < 2:
        return ref, f"{ref.name}: image is {image.shape[1]}x{image.shape[0]}, too small to crop"
    return replace(ref, digest=hashlib.sha256(data).hexdigest()[:16]), None


def load_captions(path: str | None) -> dict[str, str]:
    """JSONL lines of ``{"stem": ..., "text": ...}`` or ``{"<stem>": "<text>"}``."""
    if path is None:
        return {}
    captions: dict[str, str] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise SynthError(f"--captions {path}: cannot read ({error.strerror})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise SynthError(f"--captions {path}:{number}: not JSON; each line is {{\"stem\": ..., \"text\": ...}}") from None
        if isinstance(entry, dict) and "stem" in entry:
            text = entry.get("text", entry.get("scene", entry.get("caption", "")))
            captions[str(entry["stem"])] = clip_words(str(text))
        elif isinstance(entry, dict) and len(entry) == 1:
            (stem, text), = entry.items()
            captions[str(stem)] = clip_words(str(text))
        else:
            raise SynthError(f"--captions {path}:{number}: expected {{\"stem\": ..., \"text\": ...}} or {{stem: text}}")
    return captions


# --- the job -----------------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """Everything a sample depends on; `identity()` decides whether two runs are the same dataset."""

    output: str
    inputs: tuple[InputRef, ...]
    num: int
    seed: int = 0
    size: int = 512
    fit: str = "crop"
    format: str = "hf"
    config: SynthConfig = field(default_factory=SynthConfig)
    depth_dir: str | None = None
    depth_kind: str = "depth"
    depth_model: str | None = None
    captions: tuple[tuple[str, str], ...] = ()
    captioner: str | None = None  # a Qwen3-VL model describing each clean crop
    scenes: tuple[tuple[int, str], ...] = ()  # its descriptions, by sample index (derived, not identity)
    stages: bool = True
    shard: tuple[int, int] = (0, 1)

    def __post_init__(self) -> None:
        if self.num < 1:
            raise SynthError(f"--num must be at least 1, got {self.num}")
        if self.seed < 0:
            raise SynthError(f"--seed must be 0 or more (numpy's generators take no negative seeds), got {self.seed}")
        if self.size < 16:
            raise SynthError(f"--size must be at least 16 pixels, got {self.size}")
        if self.format not in FORMATS:
            raise SynthError(f"--format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.fit not in FITS:
            raise SynthError(f"--fit must be one of {', '.join(FITS)}, got {self.fit!r}")
        index, count = self.shard
        if not (count >= 1 and 0 <= index < count):
            raise SynthError(f"--shard {index}/{count}: write I/N with 0 <= I < N")
        if not self.inputs:
            raise SynthError("no readable inputs")

    @property
    def start(self) -> int:
        return self.num * self.shard[0] // self.shard[1]

    @property
    def stop(self) -> int:
        return self.num * (self.shard[0] + 1) // self.shard[1]

    @property
    def chunk_size(self) -> int:
        return max(1, min(MAX_CHUNK, math.ceil((self.stop - self.start) / MAX_CHUNK)))

    def chunks(self) -> list[tuple[int, int, int]]:
        """(chunk id, first index, end index) over this shard's range."""
        size = self.chunk_size
        return [(i, first, min(first + size, self.stop)) for i, first in enumerate(range(self.start, self.stop, size))]

    def identity(self) -> dict[str, Any]:
        captions = hashlib.sha256(json.dumps(self.captions).encode()).hexdigest()[:16] if self.captions else None
        return {
            "format": self.format,
            "num": self.num,
            "seed": self.seed,
            "size": self.size,
            "fit": self.fit,
            "shard": list(self.shard),
            "stages": self.stages,
            "config": to_dict(self.config),
            "inputs": [[ref.name, ref.size_bytes, ref.digest] for ref in self.inputs],
            "depth": {"dir": self.depth_dir, "kind": self.depth_kind, "model": self.depth_model},
            "captions": captions,
            "captioner": self.captioner,
        }

    @functools.cached_property
    def scene_of_index(self) -> dict[int, str]:
        return dict(self.scenes)

    @functools.cached_property
    def caption_of_stem(self) -> dict[str, str]:
        return dict(self.captions)


def source_index(seed: int, index: int, count: int) -> int:
    """Which input sample `index` crops: each pass over the inputs is a fresh permutation."""
    epoch, position = divmod(index, count)
    return int(np.random.default_rng([seed, epoch, count, 0x5EED]).permutation(count)[position])


# --- one sample --------------------------------------------------------------------
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


class _Depth:
    """Lazily computed depth for one sample, with the same crop as the image."""

    def __init__(self, source: str, compute: Callable[[np.ndarray], np.ndarray]) -> None:
        self.source = source
        self._compute = compute

    def __call__(self, clean: np.ndarray) -> np.ndarray:
        return self._compute(clean)


@functools.lru_cache(maxsize=2)
def _depth_model(model: str) -> depth_priors.ModelDepth:
    return depth_priors.ModelDepth(model).load()


def depth_for(job: Job, ref: InputRef, source_shape: tuple[int, int], crop: Crop) -> _Depth | None:
    """The first available of: a supplied file, a dataset column, a model; None means the heuristic."""
    if job.depth_dir is not None:
        found = depth_priors.find_depth_file(job.depth_dir, ref.stem)
        if found is not None:

            def from_file(_clean: np.ndarray) -> np.ndarray:
                raw = depth_priors.fit_to(depth_priors.read_depth_file(found), source_shape)
                return crop.apply(depth_priors.normalize(raw, job.depth_kind), cv2.INTER_LINEAR)

            return _Depth(f"file:{found.name}", from_file)
    if ref.depth_column is not None:
        cell = _open_dataset(ref.dataset)[ref.row][ref.depth_column]
        if cell is not None:

            def from_column(_clean: np.ndarray) -> np.ndarray:
                raw = _decode_depth_cell(cell)
                normalized = depth_priors.normalize(depth_priors.fit_to(raw, source_shape), job.depth_kind)
                return crop.apply(normalized, cv2.INTER_LINEAR)

            return _Depth(f"column:{ref.depth_column}", from_column)
    if job.depth_model is not None:
        model = _depth_model(job.depth_model)
        return _Depth(model.source, model)
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


def caption_samples(job: Job, batch_size: int, progress: Callable[[int], None]) -> dict[int, str]:
    """Describe each sample's clean crop with the captioner (cached in .parts/ for resumed runs)."""
    cache = Path(job.output) / PARTS / "scenes.json"
    if cache.is_file():
        cached = json.loads(cache.read_text())
        if cached.get("captioner") == job.captioner:
            progress(job.stop - job.start)
            return {int(k): v for k, v in cached["scenes"].items()}
    from reasoner.qwen import QwenReasoner

    captioner = QwenReasoner.from_pretrained(job.captioner)
    scenes: dict[int, str] = {}
    indices = list(range(job.start, job.stop))
    for first in range(0, len(indices), batch_size):
        batch = indices[first : first + batch_size]
        texts = captioner.describe_scene([clean_crop(job, index) for index in batch], batch_size=batch_size)
        scenes.update(zip(batch, texts))
        progress(len(batch))
    atomic_write_text(cache, json.dumps({"captioner": job.captioner, "scenes": scenes}))
    return scenes


# --- rows and writers --------------------------------------------------------------
def hf_features():
    from datasets import Features, Image, List, Value

    f64, text, flag = Value("float64"), Value("string"), Value("bool")
    message = {"role": text, "content": text}
    return Features(
        {
            "index": Value("int64"),
            "seed": Value("int64"),
            "source": text,
            "crop": List(Value("int32")),
            "upscaled": flag,
            "clean": Image(),
            "degraded": Image(),
            **{f"after_{name}": Image() for name in ORDER},
            "is_clean": flag,
            "fog_present": flag,
            "fog_severity": f64,
            "fog_atmospheric_light": List(f64),
            "fog_beta": f64,
            "fog_t_mean": f64,
            "depth_source": text,
            "shake_present": flag,
            "shake_severity": f64,
            "shake_direction_deg": f64,
            "shake_length_px": f64,
            "shake_energy": f64,
            "shake_kernel_size": Value("int32"),
            "shake_kernel": List(List(Value("float32"))),
            "rain_present": flag,
            "rain_severity": f64,
            "rain_density": f64,
            "rain_slant_deg": f64,
            "rain_length_px": f64,
            "rain_width_px": f64,
            "rain_opacity": f64,
            "rain_color": List(f64),
            "rain_coverage": f64,
            "noise_present": flag,
            "noise_severity": f64,
            "noise_k": f64,
            "noise_b": f64,
            "noise_sigma_mean": f64,
            "scene": text,
            "diagnosis": text,
            "record": text,
            "images": List(Image()),
            "prompt": List(message),
            "completion": List(message),
        }
    )


_RECORD_COLUMNS = {
    "fog": ("atmospheric_light", "beta", "t_mean"),
    "shake": ("direction_deg", "length_px", "energy", "kernel_size", "kernel"),
    "rain": ("density", "slant_deg", "length_px", "width_px", "opacity", "color", "coverage"),
    "noise": ("k", "b", "sigma_mean"),
}


def record_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The record flattened to typed columns (None where a degradation is absent)."""
    columns: dict[str, Any] = {"is_clean": record["clean"], "depth_source": record["fog"].get("depth_source")}
    for name, keys in _RECORD_COLUMNS.items():
        entry = record[name]
        columns[f"{name}_present"] = entry["present"]
        columns[f"{name}_severity"] = entry["severity"]
        for key in keys:
            columns[f"{name}_{key}"] = entry["params"].get(key)
    return columns


def conversation(diagnosis_text: str) -> dict[str, Any]:
    """trl's conversational prompt/completion columns; trl inserts the image placeholder."""
    from reasoner.prompts import DIAGNOSIS_PROMPT

    return {
        "prompt": [{"role": "user", "content": DIAGNOSIS_PROMPT}],
        "completion": [{"role": "assistant", "content": diagnosis_text}],
    }


def encode_sample(sample: Sample, stages: bool) -> dict[str, bytes]:
    """PNG bytes of clean, degraded and (optionally) every present stage, each encoded once."""
    degraded = encode_png(sample.degraded)
    encoded = {"clean": encode_png(sample.clean), "degraded": degraded}
    if stages:
        for name, image in sample.stages.items():
            # the last present stage is the degraded image itself
            encoded[f"after_{name}"] = degraded if image is sample.degraded else encode_png(image)
    return encoded


def hf_row(sample: Sample, record: dict[str, Any], encoded: dict[str, bytes]) -> dict[str, Any]:
    def image(key: str) -> dict[str, Any] | None:
        return {"bytes": encoded[key], "path": None} if key in encoded else None

    text = Diagnosis.from_record(record).render()
    return {
        "index": record["index"],
        "seed": record["seed"],
        "source": record["source"],
        "crop": record["crop"],
        "upscaled": record["upscaled"],
        "clean": image("clean"),
        "degraded": image("degraded"),
        **{f"after_{name}": image(f"after_{name}") for name in ORDER},
        **record_columns(record),
        "scene": record["scene"],
        "diagnosis": text,
        "record": json.dumps(record),
        "images": [image("degraded")],
        **conversation(text),
    }


def image_filename(index: int, key: str) -> str:
    return f"images/{index:07d}_{key}.png"


def write_chunk(job: Job, chunk: tuple[int, int, int]) -> int:
    """Make and write one chunk's samples; the chunk appears in .parts/ only when complete."""
    chunk_id, first, end = chunk
    parts = Path(job.output) / PARTS
    samples = [make_sample(job, index) for index in range(first, end)]
    encoded = [encode_sample(sample, job.stages) for sample, _ in samples]
    if job.format == "hf":
        _write_hf_chunk(job, parts, chunk_id, samples, encoded)
    else:
        _write_folder_chunk(job, parts, chunk_id, samples, encoded)
    return end - first


def _write_hf_chunk(job: Job, parts: Path, chunk_id: int, samples, encoded) -> None:
    # Straight to an Arrow stream with pyarrow: Dataset.from_list would pickle the whole
    # chunk to fingerprint it, which cost as much as a third of the PNG encoding.
    import pyarrow as pa

    features = hf_features()
    rows = [features.encode_example(hf_row(sample, record, images)) for (sample, record), images in zip(samples, encoded)]
    table = pa.Table.from_pylist(rows, schema=features.arrow_schema)
    final = parts / f"chunk-{chunk_id:05d}.arrow"
    tmp = parts / f".tmp-chunk-{chunk_id:05d}-{os.getpid()}"
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, final)


def _write_folder_chunk(job: Job, parts: Path, chunk_id: int, samples, encoded) -> None:
    from rnr.imageio import atomic_write_bytes

    records, sft = [], []
    for (_sample, record), images in zip(samples, encoded):
        files = {}
        for key, data in images.items():
            files[key] = image_filename(record["index"], key)
            atomic_write_bytes(Path(job.output) / files[key], data)
        text = Diagnosis.from_record(record).render()
        records.append(json.dumps({**record, "files": files, "diagnosis": text}))
        sft.append(json.dumps({"images": [files["degraded"]], **conversation(text)}))
    atomic_write_text(parts / f"chunk-{chunk_id:05d}.jsonl", "\n".join(records) + "\n")
    atomic_write_text(parts / f"chunk-{chunk_id:05d}.sft.jsonl", "\n".join(sft) + "\n")


def done_chunks(job: Job) -> set[int]:
    parts = Path(job.output) / PARTS
    suffix = ".arrow" if job.format == "hf" else ".jsonl"
    done = set()
    for chunk_id, _, _ in job.chunks():
        name = f"chunk-{chunk_id:05d}{suffix}"
        if (parts / name).exists() and (job.format == "hf" or (parts / f"chunk-{chunk_id:05d}.sft.jsonl").exists()):
            done.add(chunk_id)
    return done


def finalize(job: Job) -> None:
    """Assemble the chunks into the final dataset, then drop .parts/."""
    out = Path(job.output)
    parts = out / PARTS
    ids = [chunk_id for chunk_id, _, _ in job.chunks()]
    if job.format == "hf":
        fingerprint = hashlib.sha256(json.dumps(job.identity(), sort_keys=True).encode()).hexdigest()[:16]
        publish_arrow_files([parts / f"chunk-{i:05d}.arrow" for i in ids], out, fingerprint)
    else:
        for name, suffix in (("records.jsonl", ".jsonl"), ("sft.jsonl", ".sft.jsonl")):
            text = "".join((parts / f"chunk-{i:05d}{suffix}").read_text() for i in ids)
            atomic_write_text(out / name, text)
    shutil.rmtree(parts, ignore_errors=True)


def publish_arrow_files(files: Sequence[Path], out: Path, fingerprint: str) -> None:
    """Make Arrow stream files the data files of a `load_from_disk` dataset in `out`, without copying.

    Writes dataset_info.json and state.json as `Dataset.save_to_disk` does (datasets 5.2);
    state.json comes last, so a dataset is only loadable once all of it is in place.
    """
    from dataclasses import asdict

    from datasets import Dataset

    info = asdict(Dataset.from_file(str(files[0])).info)  # every chunk was written with the same features
    names = [f"data-{k:05d}-of-{len(files):05d}.arrow" for k in range(len(files))]
    (out / "state.json").unlink(missing_ok=True)
    for stale in out.glob("data-*.arrow"):
        stale.unlink()
    for source, name in zip(files, names):
        os.replace(source, out / name)
    state = {
        "_data_files": [{"filename": name} for name in names],
        "_fingerprint": fingerprint,
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": None,
    }
    atomic_write_text(out / "dataset_info.json", json.dumps(info, indent=2, sort_keys=True))
    atomic_write_text(out / "state.json", json.dumps(state, indent=2, sort_keys=True))


def save_dataset(dataset, out: Path) -> None:
    """save_to_disk into a temporary folder beside, then move its files into `out`."""
    staging = out / ".assemble"
    shutil.rmtree(staging, ignore_errors=True)
    dataset.save_to_disk(str(staging))
    for stale in out.glob("data-*.arrow"):
        stale.unlink()
    for item in staging.iterdir():
        os.replace(item, out / item.name)
    staging.rmdir()


# --- the manifest ------------------------------------------------------------------
def read_manifest(out: Path) -> dict[str, Any] | None:
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        raise SynthError(f"{path}: damaged manifest; remove {out} and run again") from None


def write_manifest(job: Job, complete: bool, skipped: Sequence[str], extra: dict[str, Any] | None = None) -> None:
    manifest = {
        "tool": "rnr-synth",
        "version": __version__,
        "job": job.identity(),
        "range": [job.start, job.stop],
        "complete": complete,
        "skipped": list(skipped),
        **(extra or {}),
    }
    atomic_write_text(Path(job.output) / MANIFEST, json.dumps(manifest, indent=2) + "\n")


def prepare_output(job: Job) -> str:
    """'fresh', 'resume' or 'complete'; refuses a folder that holds something else."""
    out = Path(job.output)
    if out.exists() and not out.is_dir():
        raise SynthError(f"--output {out} is a file; give a folder")
    manifest = read_manifest(out) if out.exists() else None
    if manifest is None:
        if out.exists() and any(out.iterdir()):
            raise SynthError(f"--output {out} is not empty and holds no rnr-synth dataset; choose an empty or new folder")
        return "fresh"
    theirs = manifest.get("job") or {}
    ours = as_recorded(job.identity(), theirs)
    if theirs != ours:
        changed = changed_inputs(theirs.get("inputs"), ours["inputs"])
        if changed and all(k == "inputs" or theirs.get(k) == v for k, v in ours.items()):
            more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
            raise SynthError(
                f"--output {out}: {changed[0]}{more} changed since this dataset was started (same name, other content); "
                "put the original back to resume, or remove the folder to start again"
            )
        differs = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        raise SynthError(
            f"--output {out} already holds a different dataset (differs in: {', '.join(differs)}); "
            "choose another folder or remove it"
        )
    return "complete" if manifest.get("complete") else "resume"


def as_recorded(identity: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """`identity` as the manifest's version wrote it: before content hashes, an input was [name, size].

    So sets made by earlier versions stay complete (or resumable) instead of "different";
    a resumed one gets the hashes when its manifest is rewritten.
    """
    inputs = theirs.get("inputs")
    if isinstance(inputs, list) and inputs and all(isinstance(entry, list) and len(entry) == 2 for entry in inputs):
        return {**identity, "inputs": [entry[:2] for entry in identity["inputs"]]}
    return identity


def changed_inputs(theirs: Any, ours: list[list[Any]]) -> list[str]:
    """Names of inputs that are in both lists but whose content digest differs ([] if the names differ)."""
    if not isinstance(theirs, list) or [entry[:1] for entry in theirs] != [entry[:1] for entry in ours]:
        return []
    return [mine[0] for old, mine in zip(theirs, ours) if list(old) != list(mine)]


# --- running -----------------------------------------------------------------------
_WORKER_JOB: Job | None = None


def tune_malloc() -> None:
    """Keep freed image-sized buffers in the heap (glibc): fresh mmaps page-fault on every sample.

    Measured here: ~10 ms of a ~50 ms composite at 512x512. A no-op off glibc.
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def die_with_parent(parent: int) -> None:
    """End this worker process when `parent` dies, even by SIGKILL, so no orphan goes on writing chunks.

    Linux: the kernel sends SIGKILL (prctl PR_SET_PDEATHSIG); elsewhere a thread polls the
    parent's pid. Parent death before the request took effect is caught by comparing pids.
    """
    import ctypes
    import signal
    import threading
    import time

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, name="die-with-parent", daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def init_checker(parent: int) -> None:
    """Initializer of the input-checking processes."""
    die_with_parent(parent)
    lift_pil_pixel_limit()  # check_input applies the job's --max-pixels itself, naming the file


def _init_worker(job: Job, parent: int | None = None) -> None:
    global _WORKER_JOB
    if parent is not None:
        die_with_parent(parent)
        lift_pil_pixel_limit()  # its own process: inputs were checked against --max-pixels already
    _WORKER_JOB = job
    tune_malloc()
    cv2.setNumThreads(1)  # processes give the parallelism; threads inside each only contend
    _quiet_datasets()
    if job.depth_model is not None:
        import torch

        torch.set_num_threads(1)


def _run_chunk(chunk: tuple[int, int, int]) -> int:
    assert _WORKER_JOB is not None
    return write_chunk(_WORKER_JOB, chunk)


def _quiet_datasets() -> None:
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()


def run_chunks(job: Job, workers: int, progress: Callable[[int], None]) -> int:
    """Write every chunk not yet done; returns how many samples this call made."""
    (Path(job.output) / PARTS).mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(Path(job.output))
    todo = [chunk for chunk in job.chunks() if chunk[0] not in done_chunks(job)]
    made = 0
    if workers <= 1 or len(todo) <= 1:
        _init_worker(job)
        for chunk in todo:
            count = write_chunk(job, chunk)
            made += count
            progress(count)
        return made
    context = multiprocessing.get_context("spawn")  # fork is unsafe once torch or BLAS threads exist
    with context.Pool(min(workers, len(todo)), initializer=_init_worker, initargs=(job, os.getpid())) as pool:
        for count in pool.imap_unordered(_run_chunk, todo):
            made += count
            progress(count)
    return made


def remove_stale_temporaries(out: Path) -> None:
    """What a killed run left half-written: chunks in .parts/, atomic writes' hidden .tmp files."""
    for stale in (out / PARTS).glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink()
    for folder in (out, out / "images"):
        for stale in folder.glob(".*.tmp"):
            stale.unlink(missing_ok=True)


def check_inputs(refs: Sequence[InputRef], workers: int, max_pixels: int | None = MAX_PIXELS) -> Iterator[tuple[InputRef, str | None]]:
    """`check_input` of each, in order; processes when there are many."""
    check = functools.partial(check_input, max_pixels=max_pixels)
    if workers <= 1 or len(refs) < 64:  # starting a pool costs ~1 s, the time to decode ~60 photos
        yield from map(check, refs)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=init_checker, initargs=(os.getpid(),)) as pool:
        yield from pool.imap(check, refs, chunksize=4)


def preview_samples(job: Job, count: int = 8) -> list[Sample]:
    """Re-make the first samples of the job (cheap and exact) for a contact sheet."""
    return [make_sample(job, index)[0] for index in range(job.start, min(job.stop, job.start + count))]



# --- merging shards ----------------------------------------------------------------
def merge(sources: Sequence[str], output: str) -> tuple[int, dict[str, Any]]:
    """Join complete shards of one job into `output`; returns (rows, manifest)."""
    manifests = []
    for source in sources:
        manifest = read_manifest(Path(source))
        if manifest is None or not manifest.get("complete"):
            raise SynthError(f"--merge {source}: not a complete rnr-synth output; finish that run first")
        manifests.append((manifest, source))
    manifests.sort(key=lambda item: item[0]["range"][0])
    base = {k: v for k, v in manifests[0][0]["job"].items() if k != "shard"}
    for manifest, source in manifests[1:]:
        if {k: v for k, v in manifest["job"].items() if k != "shard"} != base:
            raise SynthError(f"--merge {source}: made by a different job than {manifests[0][1]}; only shards of one job merge")
    ranges = [manifest["range"] for manifest, _ in manifests]
    for (_, end), (start, _) in zip(ranges, ranges[1:]):
        if start < end:
            raise SynthError("--merge: shards overlap (the same shard given twice?)")
    out = Path(output)
    if out.exists() and any(out.iterdir()):
        raise SynthError(f"--output {out} is not empty; merge into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    if base["format"] == "hf":
        from datasets import concatenate_datasets, load_from_disk

        dataset = concatenate_datasets([load_from_disk(source) for _, source in manifests])
        save_dataset(dataset, out)
        rows = len(dataset)
    else:
        rows = 0
        for name in ("records.jsonl", "sft.jsonl"):
            text = "".join((Path(source) / name).read_text() for _, source in manifests)
            atomic_write_text(out / name, text)
            rows = text.count("\n")
        for _, source in manifests:
            shutil.copytree(Path(source) / "images", out / "images", dirs_exist_ok=True)
    whole = ranges[0][0] == 0 and ranges[-1][1] == base["num"] and all(
        end == start for (_, end), (start, _) in zip(ranges, ranges[1:])
    )
    manifest = {
        "tool": "rnr-synth",
        "version": __version__,
        # a merge covering every index is the same dataset as the unsharded run
        "job": {**base, "shard": [0, 1] if whole else ["merged", ranges]},
        "range": [ranges[0][0], ranges[-1][1]],
        "complete": True,
        "skipped": sorted({line for manifest, _ in manifests for line in manifest.get("skipped", [])}),
        "merged_from": [source for _, source in manifests],
    }
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return rows, manifest
