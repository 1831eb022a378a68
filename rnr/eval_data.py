"""Test sets for `rnr-eval`: rnr-synth outputs, paired folders, and photos without ground truth.

`load_eval_set` reads any of them into one `EvalSet`: degraded images, their ground truth
(`clean`, None for a folder of photos alone) and the rnr-synth records (the true
diagnoses), so the rest of the evaluation never asks where a set came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnr.diagnosis import Diagnosis
from rnr.imageio import IMAGE_SUFFIXES, as_float_image

PAIR_FOLDERS = (("degraded", "clean"), ("input", "target"), ("lq", "gt"))


class EvalDataError(ValueError):
    """A test set that cannot be read; one line naming the path and the fix."""


@dataclass
class EvalSet:
    names: list[str]
    degraded: list[np.ndarray]  # float32 (H, W, 3) in [0, 1]
    clean: list[np.ndarray] | None  # None: photos without ground truth (the no-reference report)
    records: list[dict | None]  # rnr-synth ground truth, None for plain pairs
    kind: str

    def __len__(self) -> int:
        return len(self.names)

    @property
    def has_reference(self) -> bool:
        return self.clean is not None

    @property
    def truth(self) -> list[Diagnosis] | None:
        if any(record is None for record in self.records):
            return None
        return [Diagnosis.from_record(record) for record in self.records]


def load_eval_set(data: str, clean: str | None = None, limit: int | None = None) -> EvalSet:
    """An rnr-synth set (hf or folder format), a folder holding degraded/ and clean/, or --data with --clean."""
    if limit is not None and limit < 1:
        raise EvalDataError(f"--limit must be at least 1 (or left out: the whole set), got {limit}")
    eval_set = _load_any(data, clean, limit)
    if len(eval_set) == 0:  # the methods would stack no images, with an error from inside torch
        raise EvalDataError(f"--data {data}: holds no samples; make a test set with rnr-synth --num N")
    return eval_set


def _load_any(data: str, clean: str | None, limit: int | None) -> EvalSet:
    root = Path(data)
    if not root.exists():
        raise EvalDataError(f"--data {data}: no such folder; give an rnr-synth output or a folder of degraded/ and clean/ images")
    if clean is not None:
        return _paired(root, Path(clean), limit)
    if (root / "records.jsonl").is_file():
        return _synth_folder(root, limit)
    if (root / "dataset_info.json").is_file() or (root / "state.json").is_file():
        return _synth_hf(root, limit)
    for degraded_name, clean_name in PAIR_FOLDERS:
        if (root / degraded_name).is_dir() and (root / clean_name).is_dir():
            return _paired(root / degraded_name, root / clean_name, limit)
    if root.is_dir() and _photo_paths(root):
        return _photos(root, limit)
    raise EvalDataError(
        f"--data {data}: neither an rnr-synth output, a folder with degraded/ and clean/ subfolders, nor a folder of photos; "
        "make a test set with rnr-synth, or pass the ground truth with --clean DIR"
    )


def _photo_paths(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _photos(root: Path, limit: int | None) -> EvalSet:
    """Photos alone: what can be scored without a reference (no-reference metrics, residual severity)."""
    from rnr.imageio import read_image

    paths = _photo_paths(root)[:limit]
    return EvalSet([p.stem for p in paths], [read_image(p) for p in paths], None, [None] * len(paths), "photos without ground truth")


def _synth_hf(root: Path, limit: int | None) -> EvalSet:
    from datasets import load_from_disk

    try:
        dataset = load_from_disk(str(root))
    except IndexError:  # datasets 5.2 concatenates the data files' tables and fails on none
        raise EvalDataError(f"--data {root}: holds no samples (no data files); make a test set with rnr-synth --num N") from None
    except (FileNotFoundError, ValueError) as error:
        raise EvalDataError(f"--data {root}: not a readable datasets folder ({error}); remake it with rnr-synth") from None
    missing = {"degraded", "clean", "record"} - set(dataset.column_names)
    if missing:
        raise EvalDataError(f"--data {root}: lacks the column(s) {', '.join(sorted(missing))}; make it with rnr-synth")
    if limit is not None:
        dataset = dataset.select(range(min(limit, len(dataset))))
    records = [json.loads(text) for text in dataset["record"]]
    names = [f"#{r['index']} {Path(r['source']).stem}" for r in records]
    return EvalSet(names, [as_float_image(i) for i in dataset["degraded"]], [as_float_image(i) for i in dataset["clean"]], records, "rnr-synth (hf)")


def _synth_folder(root: Path, limit: int | None) -> EvalSet:
    from rnr.imageio import read_image

    lines = [line for line in (root / "records.jsonl").read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines[:limit]]
    names = [f"#{r['index']} {Path(r['source']).stem}" for r in records]
    degraded = [read_image(root / r["files"]["degraded"]) for r in records]
    clean = [read_image(root / r["files"]["clean"]) for r in records]
    return EvalSet(names, degraded, clean, records, "rnr-synth (folder)")


def _paired(degraded_dir: Path, clean_dir: Path, limit: int | None) -> EvalSet:
    """Pairs matched by file stem; a degraded image without its clean twin is an error, not a skip."""
    from rnr.imageio import read_image

    def images(folder: Path) -> dict[str, Path]:
        if not folder.is_dir():
            raise EvalDataError(f"{folder}: no such folder; give the folder of {'ground-truth' if folder == clean_dir else 'degraded'} images")
        return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}

    degraded, clean = images(degraded_dir), images(clean_dir)
    if not degraded:
        raise EvalDataError(f"{degraded_dir}: no images in it; put the degraded photos there")
    unmatched = sorted(set(degraded) - set(clean))
    if unmatched:
        raise EvalDataError(f"{clean_dir}: no ground truth for {', '.join(unmatched[:3])}{' …' if len(unmatched) > 3 else ''}; "
                            "give each degraded image a clean one with the same name")
    stems = sorted(degraded)[:limit]
    low, high = [read_image(degraded[s]) for s in stems], [read_image(clean[s]) for s in stems]
    for stem, a, b in zip(stems, low, high):
        if a.shape != b.shape:
            raise EvalDataError(f"{degraded[stem]}: {a.shape[1]}x{a.shape[0]} but its ground truth is {b.shape[1]}x{b.shape[0]}; pairs must match in size")
    return EvalSet(stems, low, high, [None] * len(stems), "paired folders")
