"""The paper's restoration tables for any reasoner/restorer pair: methods, ablations, oracle, breakdowns, pictures.

`rnr-eval` reads a test set (`rnr.eval_data.load_eval_set`), diagnoses every degraded
image once, runs each method (`Method`: a restorer, optionally with an `Ablation` or
with diagnoses of its own — the records' ground truth for the oracle row, that truth
with controlled errors for the perturbation rows — or the identity for "degraded
input"), scores every output with pyiqa (`rnr.metrics.MetricSuite`; against the ground
truth when there is one) and, given a judge, by the reasoner's residual severity, and
reports means overall, per degradation combination and per severity band, significance
against the full method (`rnr.eval_stats`), the reasoner's errors (`rnr.eval_reasoner`),
and a contact sheet of the worst cases.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import cv2
import numpy as np

from rnr.diagnosis import DEGRADATIONS, Diagnosis
from rnr.hedge import Hedge, restore_all
from rnr.eval_data import EvalSet
from rnr.metrics import MetricSuite

BANDS = ((1, 33, "mild (1-33)"), (34, 66, "moderate (34-66)"), (67, 100, "severe (67-100)"))
THUMB = 160
RESIDUAL = "residual_severity"  # the judge's severities of an output, summed over the four degradations
ORACLE = "oracle diagnosis"


# --- methods ----------------------------------------------------------------------------
@dataclass
class Method:
    """One table row: a restorer (None: the degraded input itself), an optional ablation, its table."""

    label: str
    restorer: Any = None
    ablation: Any = None  # restorer.prompts.Ablation, set on the restorer while this row runs
    table: str = "methods"  # "methods" (Table 2), "ablation" (Table 3) or "perturbation"
    same_as: str | None = None  # a row already run that this one repeats (Table 3's "full")
    diagnoses: Sequence[Diagnosis | None] | None = None  # the row's own (oracle, perturbed); None: the reasoner's
    perturbation: dict[str, Any] | None = None  # kind, size and the error it makes (rnr.eval_perturb)


def run_method(method: Method, images: Sequence[np.ndarray], diagnoses: Sequence[Diagnosis | None],
               hedges: Sequence[Hedge | None] | None = None) -> tuple[list[np.ndarray], float]:
    """The row's outputs and seconds per image; the row's own diagnoses, if it has them, replace `diagnoses`.

    `hedges` (the reasoner's, one per image: `rnr.hedge`) are blended by the rows that take the reasoner's diagnoses.
    """
    if method.restorer is None:
        return [np.asarray(image, np.float32) for image in images], 0.0
    if method.diagnoses is not None:
        diagnoses, hedges = method.diagnoses, None
    hedges = hedges if hedges is not None else [None] * len(images)
    saved = getattr(method.restorer, "ablation", None)
    if method.ablation is not None:
        method.restorer.ablation = method.ablation
    try:
        started = time.perf_counter()
        outputs = restore_all(method.restorer, images, diagnoses, hedges)
        seconds = (time.perf_counter() - started) / max(len(images), 1)
    finally:
        if method.ablation is not None:
            method.restorer.ablation = saved
    return outputs, seconds


def full_label(methods: Sequence[Method]) -> str:
    """The full method's row: the restorer given the reasoner's diagnosis."""
    return next(m.label for m in methods if m.table == "methods" and m.label.startswith("full"))


# --- grouping ----------------------------------------------------------------------------
def combination(diagnosis: Diagnosis) -> str:
    """'fog+rain', or 'clean'.

    >>> from rnr import Finding
    >>> combination(Diagnosis(rain=Finding(True, 20.0), fog=Finding(True, 50.0))), combination(Diagnosis())
    ('fog+rain', 'clean')
    """
    return "+".join(diagnosis.present()) or "clean"


def band_of(severity: float) -> str:
    """The severity band a score falls in ('clean' for 0).

    >>> band_of(33.4), band_of(34.0), band_of(0.0)
    ('mild (1-33)', 'moderate (34-66)', 'clean')
    """
    if severity <= 0:
        return "clean"
    for low, high, label in BANDS:
        if severity < high + 1:
            return label
    return BANDS[-1][2]


def severity_band(diagnosis: Diagnosis) -> str:
    """The band of the strongest degradation.

    >>> from rnr import Finding
    >>> severity_band(Diagnosis(noise=Finding(True, 20.0), shake=Finding(True, 70.0)))
    'severe (67-100)'
    """
    return band_of(max(diagnosis.severities()))


def mean_of(values: Sequence[float | None]) -> float | None:
    """The mean of the finite values (None when there are none)."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


@dataclass
class Evaluation:
    """Scores of every method on every sample, and what they average to."""

    methods: list[Method]
    scores: dict[str, list[dict[str, float]]] = field(default_factory=dict)  # label -> per-sample metric dict
    seconds: dict[str, float] = field(default_factory=dict)
    thumbs: dict[str, list[np.ndarray]] = field(default_factory=dict)
    residuals: dict[str, list[list[float]]] = field(default_factory=dict)  # label -> per-sample judge severities

    def overall(self, label: str, indices: Sequence[int] | None = None) -> dict[str, float | None]:
        rows = self.scores[label] if indices is None else [self.scores[label][i] for i in indices]
        names = rows[0].keys() if rows else ()
        return {name: mean_of([row[name] for row in rows]) for name in names}

    def breakdown(self, groups: Sequence[str | None]) -> dict[str, dict[str, Any]]:
        """Means per group of samples (a None group leaves the sample out)."""
        out = {}
        for group in sorted({g for g in groups if g is not None}, key=lambda g: (g == "clean", g)):
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
             progress: bool = False, judge: Any = None, hedges: Sequence[Hedge | None] | None = None) -> Evaluation:
    """Every row run and scored; `judge` (a reasoner) adds each output's residual severity; `hedges` go to `run_method`."""
    from tqdm.auto import tqdm

    result = Evaluation(list(methods))
    references = eval_set.clean if eval_set.has_reference else [None] * len(eval_set)
    for method in tqdm(methods, desc="methods", unit="row", disable=not progress):
        if method.same_as is not None:
            for table in (result.seconds, result.scores, result.thumbs, result.residuals):
                if method.same_as in table:
                    table[method.label] = table[method.same_as]
            continue
        outputs, seconds = run_method(method, eval_set.degraded, diagnoses, hedges)
        result.seconds[method.label] = seconds
        result.scores[method.label] = [suite.score(out, ref) for out, ref in zip(outputs, references)]
        result.thumbs[method.label] = [thumbnail(out) for out in outputs]
        if judge is not None:
            residual = [[float(s) for s in row] for row in judge.severities(outputs).tolist()]
            result.residuals[method.label] = residual
            for scores, row in zip(result.scores[method.label], residual):
                scores[RESIDUAL] = float(sum(row))
    return result


# --- the report ----------------------------------------------------------------------------
def scored_samples(eval_set: EvalSet) -> list[int]:
    """The samples the table means are over: the degraded ones where the records say which are clean.

    Clean inputs score ~80 dB (pyiqa's cap for identical images) and would swamp the means.
    """
    truth = eval_set.truth
    if truth is None:
        return list(range(len(eval_set)))
    return [i for i, d in enumerate(truth) if not d.is_clean]


def breakdowns(result: Evaluation, grouping: Sequence[Diagnosis]) -> dict[str, Any]:
    """Means per combination, per band of the strongest degradation, and per degradation per its own band."""
    per_degradation = {
        name: result.breakdown([band_of(getattr(d, name).severity) if getattr(d, name).present else None for d in grouping])
        for name in DEGRADATIONS
    }
    return {
        "combination": result.breakdown([combination(d) for d in grouping]),
        "severity": result.breakdown([severity_band(d) for d in grouping]),
        "degradation_severity": per_degradation,
    }


def residual_table(result: Evaluation, methods: Sequence[Method], indices: Sequence[int]) -> dict[str, Any]:
    """Per row: the judge's mean severity of each degradation after it, and the drop from the input (the reward)."""
    if not result.residuals:
        return {}
    before = np.asarray([result.residuals["degraded input"][i] for i in indices], np.float64).reshape(-1, len(DEGRADATIONS))
    table = {}
    for method in methods:
        after = np.asarray([result.residuals[method.label][i] for i in indices], np.float64).reshape(-1, len(DEGRADATIONS))
        table[method.label] = {"after": dict(zip(DEGRADATIONS, after.mean(axis=0).tolist())) if len(after) else {},
                               "reduction": float((before - after).sum(axis=1).mean()) if len(after) else None}
    return table


def build_report(eval_set: EvalSet, methods: Sequence[Method], diagnoses: Sequence[Diagnosis], result: Evaluation,
                 suite: MetricSuite, reasoner_seconds: float, seed: int = 0, probabilities: np.ndarray | None = None) -> dict[str, Any]:
    """Everything results.json holds but the run's names (data, reasoner, restorer, skipped rows).

    `probabilities` ([N, 4] presence probabilities, where the reasoner gives them) add its calibration.
    """
    from rnr.eval_stats import significance

    truth = eval_set.truth
    scored = scored_samples(eval_set)
    metric_names = [n for n in suite.names if eval_set.has_reference or suite.metrics[n].metric_mode != "FR"]
    lower_better = {n: suite.lower_better(n) for n in metric_names}
    if result.residuals:
        metric_names.append(RESIDUAL)
        lower_better[RESIDUAL] = True
    full = full_label(methods)
    report = {
        "kind": eval_set.kind, "samples": len(eval_set), "has_reference": eval_set.has_reference,
        "metrics": metric_names, "lower_better": lower_better,
        "skipped_metrics": suite.skipped, "reasoner_seconds_per_image": reasoner_seconds, "overall_samples": len(scored),
        "full": full,
        "methods": {m.label: {"table": m.table, "overall": result.overall(m.label, scored), "perturbation": m.perturbation,
                              "seconds_per_image": result.seconds[m.label], "same_as": m.same_as} for m in methods},
        "grouped_by": "ground truth" if truth is not None else "diagnosis",
        "breakdowns": breakdowns(result, truth if truth is not None else diagnoses),
        "significance": significance(result.scores, [m.label for m in methods if m.same_as is None], full, scored,
                                     metric_names, lower_better, seed),
        "residual": residual_table(result, methods, scored),
        "per_sample": [
            {"name": name, "diagnosis": d.to_dict(), "truth": None if truth is None else truth[i].to_dict(),
             "scores": {m.label: result.scores[m.label][i] for m in methods}}
            for i, (name, d) in enumerate(zip(eval_set.names, diagnoses))
        ],
    }
    perturbed = [m.label for m in methods if m.table == "perturbation"]
    if perturbed and ORACLE in result.scores:  # the curve's own question: how much each error costs against no error
        report["perturbation_vs_oracle"] = significance(result.scores, perturbed, ORACLE, scored, metric_names, lower_better, seed)
    if truth is not None:
        from rnr.eval_reasoner import reasoner_report

        report.update(reasoner_report(diagnoses, truth, probabilities, reasoner_seconds * len(eval_set)))
    return report


def worst_cases_sheet(eval_set: EvalSet, methods: Sequence[Method], result: Evaluation, count: int) -> tuple[int, np.ndarray]:
    """(rows, sheet): input | each method | ground truth for the `count` samples the full method restores worst.

    Worst by PSNR against the ground truth; without one, by the residual severity the judge
    finds in the full method's output (most left first). Perturbation rows are left off.
    """
    full = full_label(methods)
    key = "psnr" if eval_set.has_reference else RESIDUAL
    sign = 1 if key == "psnr" else -1
    unit = "dB" if key == "psnr" else " left"
    worst_first = sorted(range(len(eval_set)), key=lambda i: sign * result.scores[full][i].get(key, 0.0))[:count]
    columns = [("input", [thumbnail(x) for x in eval_set.degraded])]
    columns += [(m.label, result.thumbs[m.label]) for m in methods
                if m.restorer is not None and m.same_as is None and m.table != "perturbation"]
    if eval_set.has_reference:
        columns.append(("ground truth", [thumbnail(x) for x in eval_set.clean]))
    restored = [label for label, _ in columns[1:] if label != "ground truth"]
    captions = {label: [f"{label.split(' (')[0][:18]} {s.get(key, float('nan')):.1f}{unit}" for s in result.scores[label]] for label in restored}
    captions["input"] = [f"{eval_set.names[i][:14]} {s.get(key, float('nan')):.1f}{unit}" for i, s in enumerate(result.scores["degraded input"])]
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
