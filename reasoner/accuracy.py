"""How well a reasoner diagnoses: presence P/R/F1, severity MAE, parameter errors, parse failures.

Works for any reasoner that returns `Diagnosis` objects; ground truth comes from the
records of an `rnr-synth` set (`Diagnosis.from_record`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from rnr.diagnosis import DEGRADATIONS, PARAM_DECIMALS, Diagnosis

# Angles are axial (a kernel at 179° is 1° from one at 0°); the rest are plain differences.
_AXIAL = {("shake", "direction_deg")}


def presence_scores(predicted: Sequence[Diagnosis], truth: Sequence[Diagnosis]) -> dict[str, dict[str, float]]:
    """Per degradation: precision, recall, F1 and support of the Yes/No verdict.

    >>> yes, no = Diagnosis.from_dict({"fog": {"present": True, "severity": 50}}), Diagnosis()
    >>> presence_scores([yes, yes, no], [yes, no, yes])["fog"]
    {'precision': 0.5, 'recall': 0.5, 'f1': 0.5, 'support': 2}
    """
    scores = {}
    for name in DEGRADATIONS:
        p = np.array([getattr(d, name).present for d in predicted])
        t = np.array([getattr(d, name).present for d in truth])
        true_pos = int((p & t).sum())
        precision = true_pos / p.sum() if p.sum() else (1.0 if not t.any() else 0.0)
        recall = true_pos / t.sum() if t.sum() else (1.0 if not p.any() else 0.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[name] = {"precision": float(precision), "recall": float(recall), "f1": float(f1), "support": int(t.sum())}
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
        for key in PARAM_DECIMALS[name]:
            errors = []
            for pred, true in zip(predicted, truth):
                p, t = getattr(pred, name), getattr(true, name)
                if p.present and t.present and key in p.params and key in t.params:
                    errors.append(_error(name, key, p.params[key], t.params[key]))
            out[name][key] = {"mae": float(np.mean(errors)) if errors else None, "count": len(errors)}
    return out


def _error(name: str, key: str, predicted: Any, true: Any) -> float:
    if isinstance(true, tuple):
        return float(np.mean(np.abs(np.subtract(predicted, true))))
    difference = abs(float(predicted) - float(true))
    if (name, key) in _AXIAL:
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
