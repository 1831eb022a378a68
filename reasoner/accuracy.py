"""How well a reasoner diagnoses: presence P/R/F1, severity MAE, parameter errors, parse failures.

Works for any reasoner that returns `Diagnosis` objects; ground truth comes from the
records of an `rnr-synth` set (`Diagnosis.from_record`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from rnr.diagnosis import DEGRADATIONS, Diagnosis
from rnr.schema import BY_NAME


def precision_recall(said: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Precision and recall of boolean calls; with nothing called (nothing present) and nothing
    present (nothing called), the empty side scores 1: nothing was wrong, nothing was missed.

    >>> precision_recall(np.array([True, False]), np.array([True, True])), precision_recall(np.zeros(2, bool), np.zeros(2, bool))
    ((1.0, 0.5), (1.0, 1.0))
    """
    said, truth = np.asarray(said, bool), np.asarray(truth, bool)
    hits = int((said & truth).sum())
    precision = hits / said.sum() if said.sum() else (1.0 if not truth.any() else 0.0)
    recall = hits / truth.sum() if truth.sum() else (1.0 if not said.any() else 0.0)
    return float(precision), float(recall)


def f_score(said: np.ndarray, truth: np.ndarray, beta: float = 1.0) -> float:
    """F-beta of boolean calls (F1 by default): the one F the project reports and calibrates on.

    >>> f_score(np.array([True, True, False]), np.array([True, False, True]))
    0.5
    """
    precision, recall = precision_recall(said, truth)
    denominator = beta**2 * precision + recall
    return (1 + beta**2) * precision * recall / denominator if denominator else 0.0


def presence_scores(predicted: Sequence[Diagnosis], truth: Sequence[Diagnosis]) -> dict[str, dict[str, float]]:
    """Per degradation: precision, recall, F1 and support of the Yes/No verdict.

    >>> yes, no = Diagnosis.from_dict({"fog": {"present": True, "severity": 50}}), Diagnosis()
    >>> presence_scores([yes, yes, no], [yes, no, yes])["fog"]
    {'precision': 0.5, 'recall': 0.5, 'f1': 0.5, 'support': 2}
    """
    scores = {}
    for name in DEGRADATIONS:
        said = np.array([getattr(d, name).present for d in predicted], bool)
        true = np.array([getattr(d, name).present for d in truth], bool)
        precision, recall = precision_recall(said, true)
        f1 = f_score(said, true)
        scores[name] = {"precision": precision, "recall": recall, "f1": float(f1), "support": int(true.sum())}
    return scores


def severity_mae(predicted: Sequence[Diagnosis], truth: Sequence[Diagnosis]) -> dict[str, float]:
    """Mean absolute severity error per degradation over all samples (absent counts as 0)."""
    p = np.array([d.severities() for d in predicted], np.float64).reshape(-1, len(DEGRADATIONS))
    t = np.array([d.severities() for d in truth], np.float64).reshape(-1, len(DEGRADATIONS))
    errors = np.abs(p - t).mean(axis=0) if len(p) else np.zeros(len(DEGRADATIONS))
    return {name: float(error) for name, error in zip(DEGRADATIONS, errors)}


def parameter_errors(predicted: Sequence[Diagnosis], truth: Sequence[Diagnosis]) -> dict[str, dict[str, Any]]:
    """Mean absolute error of each parameter where both say present and the prediction gives it."""
    out: dict[str, dict[str, Any]] = {}
    for name in DEGRADATIONS:
        out[name] = {}
        for param in BY_NAME[name].params:
            key, errors = param.name, []
            for pred, true in zip(predicted, truth):
                p, t = getattr(pred, name), getattr(true, name)
                if p.present and t.present and key in p.params and key in t.params:
                    errors.append(_error(p.params[key], t.params[key], param.axial))
            out[name][key] = {"mae": float(np.mean(errors)) if errors else None, "count": len(errors)}
    return out


def _error(predicted: Any, true: Any, axial: bool) -> float:
    if isinstance(true, tuple):
        return float(np.mean(np.abs(np.subtract(predicted, true))))
    difference = abs(float(predicted) - float(true))
    if axial:  # a kernel at 179° is 1° from one at 0°
        difference = min(difference % 180.0, 180.0 - difference % 180.0)
    return difference


def accuracy_report(
    predicted: Sequence[Diagnosis], truth: Sequence[Diagnosis], parse_failures: int, seconds: float
) -> dict[str, Any]:
    count = len(truth)
    return {
        "samples": count,
        "presence": presence_scores(predicted, truth),
        "severity_mae": severity_mae(predicted, truth),
        "parameters": parameter_errors(predicted, truth),
        "parse_failure_rate": parse_failures / count if count else 0.0,
        "images_per_second": count / seconds if seconds > 0 else None,
    }


def markdown(report: dict[str, Any], title: str = "Reasoner accuracy") -> str:
    """The report as Markdown tables."""
    lines = [f"## {title}", "", f"{report['samples']} samples; parse failures {report['parse_failure_rate']:.1%}; "
             f"{report['images_per_second'] or 0:.2f} images/s", ""]
    lines += ["| degradation | precision | recall | F1 | support | severity MAE |", "|---|---:|---:|---:|---:|---:|"]
    for name in DEGRADATIONS:
        s = report["presence"][name]
        lines.append(f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} | {report['severity_mae'][name]:.2f} |")
    lines += ["", "| parameter | MAE | n |", "|---|---:|---:|"]
    for name in DEGRADATIONS:
        for key, entry in report["parameters"][name].items():
            mae = "—" if entry["mae"] is None else f"{entry['mae']:.4g}"
            lines.append(f"| {name}.{key} | {mae} | {entry['count']} |")
    return "\n".join(lines) + "\n"
