"""Where the reasoner goes wrong: confusion between degradations, calibration, severity error against true severity.

Beside `reasoner.accuracy` (presence P/R/F1, severity MAE, parameter errors), on a set
with ground truth:

- **confusion**: rows are the true degradations (and "clean" samples), columns what the
  reasoner called. Cell (i, i): samples with i that were called i; cell (i, j): samples
  with i but without j that were called j (j invented on an i photo); "nothing": samples
  with i that were called clean. The clean row counts each false call on clean samples.
- **calibration**: where the reasoner gives presence probabilities (the lite one does;
  a Qwen reasoner answers Yes/No), a reliability table over ten equal bins — the mean
  probability said against how often the degradation was there — and the expected
  calibration error (ECE: the bins' gaps weighted by their share of answers), pooled over
  the four degradations and per degradation.
- **severity error**: per degradation and band of its true severity, over the samples
  that have it: mean absolute error, mean signed error (bias: + over-estimates) and how
  many were missed (called absent, severity 0).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from rnr.diagnosis import DEGRADATIONS, Diagnosis

BINS = 10
NOTHING = "nothing"


def confusion(predicted: Sequence[Diagnosis], truth: Sequence[Diagnosis]) -> dict[str, dict[str, int]]:
    """{true degradation or 'clean': {called degradation or 'nothing': samples}} (see the module docstring).

    >>> from rnr import Finding
    >>> fog, rain = Diagnosis(fog=Finding(True, 50.0)), Diagnosis(rain=Finding(True, 20.0))
    >>> table = confusion([rain, Diagnosis(), fog], [fog, fog, Diagnosis()])
    >>> table["fog"]["rain"], table["fog"]["nothing"], table["fog"]["fog"], table["clean"]["fog"]
    (1, 1, 0, 1)
    """
    rows = {name: dict.fromkeys((*DEGRADATIONS, NOTHING), 0) for name in (*DEGRADATIONS, "clean")}
    for called, true in zip(predicted, truth):
        have, said = set(true.present()), set(called.present())
        for name in have or {"clean"}:
            if not said:
                rows[name][NOTHING] += 1
            for other in said:
                if other == name or other not in have:
                    rows[name][other] += 1
    return rows


def calibration(probabilities: np.ndarray, truth: Sequence[Diagnosis], bins: int = BINS) -> dict[str, Any]:
    """Reliability bins and ECE of presence probabilities [N, 4] against the true presence.

    >>> from rnr import Finding
    >>> truth = [Diagnosis(fog=Finding(True, 50.0)), Diagnosis()]
    >>> calibration(np.array([[1.0, 0, 0, 0], [0.0, 0, 0, 0]]), truth)["ece"]
    0.0
    >>> round(calibration(np.array([[0.75, 0, 0, 0], [0.25, 0, 0, 0]]), truth)["per_degradation"]["fog"], 3)
    0.25
    """
    said = np.asarray(probabilities, np.float64).reshape(-1, len(DEGRADATIONS))
    there = np.array([[getattr(d, name).present for name in DEGRADATIONS] for d in truth], np.float64).reshape(-1, len(DEGRADATIONS))
    table = _reliability(said.ravel(), there.ravel(), bins)
    per = {name: _reliability(said[:, i], there[:, i], bins)["ece"] for i, name in enumerate(DEGRADATIONS)}
    return {"bins": table["bins"], "ece": table["ece"], "per_degradation": per, "answers": int(said.size)}


def _reliability(said: np.ndarray, there: np.ndarray, bins: int) -> dict[str, Any]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(said, edges[1:-1], right=True), 0, bins - 1)  # (0, 0.1] ... ; 0 in the first bin
    rows, ece = [], 0.0
    for b in range(bins):
        inside = which == b
        count = int(inside.sum())
        confidence = float(said[inside].mean()) if count else None
        frequency = float(there[inside].mean()) if count else None
        if count:
            ece += count / max(said.size, 1) * abs(frequency - confidence)
        rows.append({"low": float(edges[b]), "high": float(edges[b + 1]), "count": count,
                     "mean_probability": confidence, "frequency": frequency})
    return {"bins": rows, "ece": float(ece)}


def severity_error(predicted: Sequence[Diagnosis], truth: Sequence[Diagnosis]) -> dict[str, dict[str, Any]]:
    """{degradation: {band of its true severity: count, MAE, bias, missed}} over the samples that have it."""
    from rnr.evaluation import BANDS, band_of

    out: dict[str, dict[str, Any]] = {}
    for name in DEGRADATIONS:
        out[name] = {}
        pairs = [(getattr(p, name), getattr(t, name)) for p, t in zip(predicted, truth) if getattr(t, name).present]
        for _, _, band in BANDS:
            inside = [(p, t) for p, t in pairs if band_of(t.severity) == band]
            errors = np.array([p.severity - t.severity for p, t in inside], np.float64)
            out[name][band] = {"count": len(inside), "mae": float(np.abs(errors).mean()) if len(inside) else None,
                               "bias": float(errors.mean()) if len(inside) else None,
                               "missed": sum(1 for p, _ in inside if not p.present)}
    return out


def presence_probabilities(reasoner: Any, images: Sequence[np.ndarray]) -> np.ndarray | None:
    """[N, 4] presence probabilities where the reasoner has them (the lite one), else None."""
    from reasoner.lite import LiteReasoner, split_outputs

    if not isinstance(reasoner, LiteReasoner):
        return None
    import torch

    return torch.sigmoid(split_outputs(reasoner.predict(images))[0]).numpy()


def reasoner_report(predicted: Sequence[Diagnosis], truth: Sequence[Diagnosis], probabilities: np.ndarray | None,
                    seconds: float) -> dict[str, Any]:
    """`reasoner_accuracy` (reasoner.accuracy's report) and `reasoner_analysis` (this module's) of one run."""
    from reasoner.accuracy import accuracy_report

    analysis = {"confusion": confusion(predicted, truth), "severity_error": severity_error(predicted, truth),
                "calibration": None if probabilities is None else calibration(probabilities, truth)}
    return {"reasoner_accuracy": accuracy_report(predicted, truth, 0, seconds), "reasoner_analysis": analysis}


def markdown(analysis: dict[str, Any], reliability_plot: str | None = None) -> list[str]:
    """The analysis as Markdown lines."""
    columns = (*DEGRADATIONS, NOTHING)
    lines = ["## Reasoner: which degradation is called which", "",
             "Rows: what the sample has; columns: what the reasoner said (off the diagonal: said though absent).", "",
             "| has \\ called | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for row, cells in analysis["confusion"].items():
        lines.append(f"| {row} | " + " | ".join(str(cells[c]) for c in columns) + " |")
    lines += ["", "## Reasoner: severity error against true severity", "",
              "Over the samples that have the degradation; bias + means over-estimated; missed: called absent (counted as 0).", "",
              "| degradation | true severity | n | MAE | bias | missed |", "|---|---|---:|---:|---:|---:|"]
    for name, bands in analysis["severity_error"].items():
        for band, entry in bands.items():
            if entry["count"]:
                lines.append(f"| {name} | {band} | {entry['count']} | {entry['mae']:.1f} | {entry['bias']:+.1f} | {entry['missed']} |")
    lines += ["", "## Reasoner: calibration of the presence probabilities", ""]
    calibrated = analysis["calibration"]
    if calibrated is None:
        return lines + ["Not measured: this reasoner answers Yes/No and gives no presence probabilities."]
    per = ", ".join(f"{name} {value:.3f}" for name, value in calibrated["per_degradation"].items())
    lines += [f"ECE {calibrated['ece']:.3f} over {calibrated['answers']} answers (10 equal bins; per degradation: {per}).", "",
              "| probability | answers | mean probability | present |", "|---|---:|---:|---:|"]
    for b in calibrated["bins"]:
        if b["count"]:
            lines.append(f"| {b['low']:.1f}-{b['high']:.1f} | {b['count']} | {b['mean_probability']:.3f} | {b['frequency']:.3f} |")
    if reliability_plot:
        lines += ["", f"![reliability diagram]({reliability_plot})"]
    return lines
