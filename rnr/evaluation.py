"""The paper's restoration tables for any reasoner/restorer pair: methods, ablations, breakdowns, pictures.

`rnr-eval` reads a test set (`load_eval_set`), diagnoses every degraded image once,
runs each method (`Method`: a restorer, optionally with an `Ablation`, or the identity
for "degraded input"), scores every output against the ground truth with pyiqa
(`rnr.metrics.MetricSuite`), and reports means overall, per degradation combination and
per severity band, plus a contact sheet of the worst cases.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from rnr.diagnosis import Diagnosis
from rnr.imageio import as_float_image
from rnr.metrics import LABELS, MetricSuite

PAIR_FOLDERS = (("degraded", "clean"), ("input", "target"), ("lq", "gt"))
BANDS = ((1, 33, "mild (1-33)"), (34, 66, "moderate (34-66)"), (67, 100, "severe (67-100)"))
THUMB = 160


class EvalDataError(ValueError):
    """A test set that cannot be read; one line naming the path and the fix."""


@dataclass
class EvalSet:
    names: list[str]
    degraded: list[np.ndarray]  # float32 (H, W, 3) in [0, 1]
    clean: list[np.ndarray]
    records: list[dict | None]  # rnr-synth ground truth, None for plain pairs
    kind: str

    def __len__(self) -> int:
        return len(self.names)

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
    raise EvalDataError(
        f"--data {data}: neither an rnr-synth output nor a folder with degraded/ and clean/ subfolders; "
        "make a test set with rnr-synth, or pass the ground truth with --clean DIR"
    )


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
    from rnr.imageio import IMAGE_SUFFIXES, read_image

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


# --- methods ----------------------------------------------------------------------------
@dataclass
class Method:
    """One table row: a restorer (None: the degraded input itself), an optional ablation, its table."""

    label: str
    restorer: Any = None
    ablation: Any = None  # restorer.prompts.Ablation, set on the restorer while this row runs
    table: str = "methods"  # "methods" (Table 2) or "ablation" (Table 3)
    same_as: str | None = None  # a row already run that this one repeats (Table 3's "full")


def run_method(method: Method, images: Sequence[np.ndarray], diagnoses: Sequence[Diagnosis | None]) -> tuple[list[np.ndarray], float]:
    """The row's outputs and seconds per image."""
    if method.restorer is None:
        return [np.asarray(image, np.float32) for image in images], 0.0
    saved = getattr(method.restorer, "ablation", None)
    if method.ablation is not None:
        method.restorer.ablation = method.ablation
    try:
        started = time.perf_counter()
        outputs = [method.restorer.restore([image], [diagnosis])[0] for image, diagnosis in zip(images, diagnoses)]
        seconds = (time.perf_counter() - started) / max(len(images), 1)
    finally:
        if method.ablation is not None:
            method.restorer.ablation = saved
    return outputs, seconds


# --- grouping ----------------------------------------------------------------------------
def combination(diagnosis: Diagnosis) -> str:
    """'fog+rain', or 'clean'.

    >>> from rnr import Finding
    >>> combination(Diagnosis(rain=Finding(True, 20.0), fog=Finding(True, 50.0))), combination(Diagnosis())
    ('fog+rain', 'clean')
    """
    return "+".join(diagnosis.present()) or "clean"


def severity_band(diagnosis: Diagnosis) -> str:
    """The band of the strongest degradation.

    >>> from rnr import Finding
    >>> severity_band(Diagnosis(noise=Finding(True, 20.0), shake=Finding(True, 70.0)))
    'severe (67-100)'
    """
    strongest = max(diagnosis.severities())
    if strongest <= 0:
        return "clean"
    for low, high, label in BANDS:
        if strongest < high + 1:
            return label
    return BANDS[-1][2]


def _mean(values: Sequence[float]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


@dataclass
class Evaluation:
    """Scores of every method on every sample, and what they average to."""

    methods: list[Method]
    scores: dict[str, list[dict[str, float]]] = field(default_factory=dict)  # label -> per-sample metric dict
    seconds: dict[str, float] = field(default_factory=dict)
    thumbs: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def overall(self, label: str, indices: Sequence[int] | None = None) -> dict[str, float | None]:
        rows = self.scores[label] if indices is None else [self.scores[label][i] for i in indices]
        names = rows[0].keys() if rows else ()
        return {name: _mean([row[name] for row in rows]) for name in names}

    def breakdown(self, groups: Sequence[str]) -> dict[str, dict[str, Any]]:
        out = {}
        for group in sorted(set(groups), key=lambda g: (g == "clean", g)):
            indices = [i for i, g in enumerate(groups) if g == group]
            rows = {m.label: self.overall(m.label, indices) for m in self.methods if m.same_as is None}
            out[group] = {"count": len(indices), "methods": rows}
        return out


def thumbnail(image: np.ndarray, size: int = THUMB) -> np.ndarray:
    """uint8, longest side `size`."""
    from rnr.imageio import to_uint8

    height, width = image.shape[:2]
    scale = size / max(height, width)
    return cv2.resize(to_uint8(image), (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)


def evaluate(eval_set: EvalSet, methods: Sequence[Method], diagnoses: Sequence[Diagnosis | None], suite: MetricSuite,
             progress: bool = False) -> Evaluation:
    from tqdm.auto import tqdm

    result = Evaluation(list(methods))
    for method in tqdm(methods, desc="methods", unit="row", disable=not progress):
        if method.same_as is not None:
            for table in (result.seconds, result.scores, result.thumbs):
                table[method.label] = table[method.same_as]
            continue
        outputs, seconds = run_method(method, eval_set.degraded, diagnoses)
        result.seconds[method.label] = seconds
        result.scores[method.label] = [suite.score(out, ref) for out, ref in zip(outputs, eval_set.clean)]
        result.thumbs[method.label] = [thumbnail(out) for out in outputs]
    return result


def build_report(eval_set: EvalSet, methods: Sequence[Method], diagnoses: Sequence[Diagnosis], result: Evaluation,
                 suite: MetricSuite, reasoner_seconds: float) -> dict[str, Any]:
    """Everything results.json holds but the run's names (data, reasoner, restorer, skipped rows)."""
    truth = eval_set.truth
    grouping = truth if truth is not None else diagnoses
    # clean inputs score ~80 dB (pyiqa's cap for identical images) and would swamp the means
    scored = [i for i, d in enumerate(truth) if not d.is_clean] if truth is not None else list(range(len(eval_set)))
    report = {
        "kind": eval_set.kind, "samples": len(eval_set),
        "metrics": suite.names, "lower_better": {n: suite.lower_better(n) for n in suite.names},
        "skipped_metrics": suite.skipped, "reasoner_seconds_per_image": reasoner_seconds, "overall_samples": len(scored),
        "methods": {m.label: {"table": m.table, "overall": result.overall(m.label, scored),
                              "seconds_per_image": result.seconds[m.label], "same_as": m.same_as} for m in methods},
        "grouped_by": "ground truth" if truth is not None else "diagnosis",
        "breakdowns": {
            "combination": result.breakdown([combination(d) for d in grouping]),
            "severity": result.breakdown([severity_band(d) for d in grouping]),
        },
        "per_sample": [
            {"name": name, "diagnosis": d.to_dict(), "scores": {m.label: result.scores[m.label][i] for m in methods}}
            for i, (name, d) in enumerate(zip(eval_set.names, diagnoses))
        ],
    }
    if truth is not None:
        from reasoner.accuracy import accuracy_report

        report["reasoner_accuracy"] = accuracy_report(diagnoses, truth, 0, reasoner_seconds * len(eval_set))
    return report


def worst_cases_sheet(eval_set: EvalSet, methods: Sequence[Method], result: Evaluation, count: int) -> tuple[int, np.ndarray]:
    """(rows, sheet): input | each method | ground truth for the `count` samples the full method restores worst."""
    full = next(m.label for m in methods if m.table == "methods" and m.label.startswith("full"))
    worst_first = sorted(range(len(eval_set)), key=lambda i: result.scores[full][i]["psnr"])[:count]
    columns = [("input", [thumbnail(x) for x in eval_set.degraded])]
    columns += [(m.label, result.thumbs[m.label]) for m in methods if m.restorer is not None and m.same_as is None]
    columns.append(("ground truth", [thumbnail(x) for x in eval_set.clean]))
    captions = {label: [f"{label.split(' (')[0][:18]} {s['psnr']:.1f}dB" for s in result.scores[label]] for label, _ in columns[1:-1]}
    captions["input"] = [f"{eval_set.names[i][:14]} {s['psnr']:.1f}dB" for i, s in enumerate(result.scores["degraded input"])]
    return len(worst_first), comparison_sheet(columns, worst_first, captions)


# --- pictures ----------------------------------------------------------------------------
def comparison_sheet(columns: Sequence[tuple[str, list[np.ndarray]]], rows: Sequence[int], captions: dict[str, list[str]]) -> np.ndarray:
    """One row per sample index in `rows`: a labelled thumbnail per column (input | methods | ground truth)."""
    from rnr.preview import labelled_tile

    gap = 4
    sheet_rows = []
    for i in rows:
        tiles = [labelled_tile(thumbs[i], captions[label][i] if label in captions else label, THUMB) for label, thumbs in columns]
        spacer = np.full((tiles[0].shape[0], gap, 3), 255, np.uint8)
        sheet_rows.append(np.concatenate([part for tile in tiles for part in (tile, spacer)][:-1], axis=1))
    if not sheet_rows:
        raise ValueError("no samples for the contact sheet")
    horizontal = np.full((gap, sheet_rows[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([part for row in sheet_rows for part in (row, horizontal)][:-1], axis=0)


# --- reports -----------------------------------------------------------------------------
def _cell(value: float | None, name: str) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if name in ("psnr", "musiq", "niqe") else f"{value:.4f}"


def _arrow(suite_lower: dict[str, bool], name: str) -> str:
    return LABELS.get(name, name) + ("↓" if suite_lower.get(name) else "↑")


def method_table(report: dict[str, Any], table: str) -> list[str]:
    metrics, lower = report["metrics"], report["lower_better"]
    lines = ["| method | " + " | ".join(_arrow(lower, m) for m in metrics) + " | s/image |",
             "|---|" + "---:|" * (len(metrics) + 1)]
    for label, row in report["methods"].items():
        if row["table"] != table:
            continue
        cells = " | ".join(_cell(row["overall"].get(m), m) for m in metrics)
        lines.append(f"| {label} | {cells} | {row['seconds_per_image']:.3f} |")
    return lines


def breakdown_table(report: dict[str, Any], key: str) -> list[str]:
    labels = [label for label, row in report["methods"].items() if not row.get("same_as")]
    lines = ["| " + key + " | n | " + " | ".join(labels) + " |", "|---|---:|" + "---:|" * len(labels)]
    for group, entry in report["breakdowns"][key].items():
        cells = []
        for label in labels:
            scores = entry["methods"][label]
            cells.append(f"{_cell(scores.get('psnr'), 'psnr')} / {_cell(scores.get('ssim'), 'ssim')}")
        lines.append(f"| {group} | {entry['count']} | " + " | ".join(cells) + " |")
    return lines


def markdown(report: dict[str, Any]) -> str:
    """Tables shaped like the paper's: methods (Table 2), ablations (Table 3), breakdowns, reasoner accuracy."""
    from reasoner.accuracy import markdown as accuracy_markdown

    lines = [f"# rnr-eval: {report['restorer']} restorer, {report['reasoner']} reasoner",
             "", f"{report['samples']} samples of {report['data']} ({report['kind']}); "
             f"diagnosis {report['reasoner_seconds_per_image']:.3f} s/image (not in the rows' s/image). "
             f"Table means are over the {report['overall_samples']} degraded samples; clean ones are in the breakdowns.", "",
             "## Methods (Table 2)", "", *method_table(report, "methods")]
    if any(row["table"] == "ablation" for row in report["methods"].values()):
        lines += ["", "## Ablations (Table 3)", "", "Inference-time: the same weights given less of the diagnosis "
                  "(the paper retrains a model per row).", "", *method_table(report, "ablation")]
    for key, title in (("combination", "By degradation combination"), ("severity", "By severity band (strongest degradation)")):
        source = "ground truth" if report["grouped_by"] == "ground truth" else "the reasoner's diagnosis (no ground-truth records)"
        lines += ["", f"## {title}: PSNR / SSIM", "", f"Grouped by {source}.", "", *breakdown_table(report, key)]
    for label, reason in report["skipped_rows"].items():
        lines += ["", f"Row skipped: {label} — {reason}"]
    if report["skipped_metrics"]:
        lines += ["", "## Skipped metrics", ""] + [f"- {LABELS.get(n, n)}: {why}" for n, why in report["skipped_metrics"].items()]
    if report.get("reasoner_accuracy"):
        lines += ["", accuracy_markdown(report["reasoner_accuracy"], title="Reasoner accuracy (ground truth: the set's records)").rstrip()]
    if report.get("sheet"):
        lines += ["", f"Contact sheet (worst {report['sheet_rows']} by the full method's PSNR first): {report['sheet']}"]
    return "\n".join(lines) + "\n"
