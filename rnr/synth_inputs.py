"""rnr-synth's inputs: clean photos from files, folders, globs or `datasets` folders, checked and cached."""

from __future__ import annotations

import functools
import glob
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from rnr import BUNDLED_PHOTOS
from rnr.imageio import IMAGE_SUFFIXES, MAX_PIXELS, ImageReadError, ImageTooLargeError, decode_image
from rnr.synth_job import SynthError

BUNDLED = "bundled"


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
    """Whether `path` is a folder that `Dataset.save_to_disk` wrote."""
    from datasets import config

    return (path / config.DATASET_STATE_JSON_FILENAME).is_file() and (path / config.DATASET_INFO_FILENAME).is_file()


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
def open_dataset(path: str):
    """The dataset at `path` (cached per process), its images left as encoded bytes."""
    from datasets import Image, load_from_disk

    dataset = load_from_disk(path)
    for column, feature in dataset.features.items():
        if isinstance(feature, Image):  # raw bytes, so decoding goes through our own reader
            dataset = dataset.cast_column(column, Image(decode=False))
    return dataset


class DecodedCache:
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


_CACHE = DecodedCache(budget_bytes=1 << 30)  # per process; samples cycle through the inputs


def load_input(ref: InputRef) -> np.ndarray:
    """The decoded photo, from this process's cache when it was used recently."""
    return _CACHE.get(ref)


def input_bytes(ref: InputRef) -> bytes:
    """The input's encoded image, from its file or its dataset cell."""
    if ref.path is not None:
        return Path(ref.path).read_bytes()
    cell = open_dataset(ref.dataset)[ref.row][ref.image_column]
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
