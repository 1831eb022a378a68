"""rnr-eval's plots (matplotlib, PNG): PSNR by severity band, the perturbation curve, the reliability diagram.

Each function reads the report `rnr-eval` writes to results.json and writes one PNG
(temp-then-rename). Figures are built with `matplotlib.figure.Figure`, not pyplot, so no
global state (backend, open figures) is touched.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rnr.diagnosis import DEGRADATIONS
from rnr.metrics import LABELS

DPI = 110


def _save(figure, path: Path) -> None:
    from rnr.imageio import atomic_write_bytes

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    atomic_write_bytes(path, buffer.getvalue())


def headline_metric(report: dict[str, Any]) -> str:
    """PSNR where there is a reference; otherwise the residual severity, or the first metric."""
    metrics = report["metrics"]
    for name in ("psnr", "residual_severity"):
        if name in metrics:
            return name
    return metrics[0]


def plotted_rows(report: dict[str, Any]) -> list[str]:
    """The rows of Tables 2 and 3 (and the oracle): not the perturbation rows, not repeats."""
    return [label for label, row in report["methods"].items() if row["table"] != "perturbation" and not row.get("same_as")]


def severity_band_plot(report: dict[str, Any], path: Path) -> None:
    """Per degradation, the headline metric of each row in each band of that degradation's severity."""
    from matplotlib.figure import Figure

    metric = headline_metric(report)
    rows = plotted_rows(report)
    figure = Figure(figsize=(11, 7.5))
    axes = figure.subplots(2, 2).ravel()
    width = 0.8 / max(len(rows), 1)
    for ax, name in zip(axes, DEGRADATIONS):
        groups = report["breakdowns"]["degradation_severity"].get(name, {})
        bands = [band for band in groups if band != "clean"]
        for r, label in enumerate(rows):
            values = [groups[band]["methods"][label].get(metric) for band in bands]
            ax.bar([b + (r - (len(rows) - 1) / 2) * width for b in range(len(bands))],
                   [v if v is not None else 0.0 for v in values], width, label=label)
        ax.set_xticks(range(len(bands)), [f"{band}\nn={groups[band]['count']}" for band in bands])
        ax.set_title(f"{name} present ({report['grouped_by']})")
        ax.set_ylabel(LABELS.get(metric, metric))
        if not bands:
            ax.text(0.5, 0.5, "no sample has it", ha="center", va="center", transform=ax.transAxes)
        _tight_ylim(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=min(len(rows), 4), frameon=False)
    figure.suptitle(f"{LABELS.get(metric, metric)} by severity band, per degradation")
    figure.subplots_adjust(bottom=0.16, hspace=0.45)
    _save(figure, path)


def _tight_ylim(ax) -> None:
    """Bars of PSNR all sit between 15 and 30 dB: start the axis near the lowest, not at 0."""
    heights = [patch.get_height() for patch in ax.patches if patch.get_height() > 0]
    if heights:
        low, high = min(heights), max(heights)
        margin = max((high - low) * 0.15, 0.5)
        ax.set_ylim(max(low - margin * 2, 0.0), high + margin)


def perturbation_plot(report: dict[str, Any], path: Path) -> None:
    """The headline metric against the severity error given (0: the oracle), and the other errors beside it."""
    from matplotlib.figure import Figure

    from rnr.evaluation import ORACLE

    metric = headline_metric(report)
    methods, versus = report["methods"], report.get("perturbation_vs_oracle", {})
    oracle = methods[ORACLE]["overall"][metric]
    severity = sorted([(row["perturbation"]["size"], label) for label, row in methods.items()
                       if row["table"] == "perturbation" and row["perturbation"]["kind"] == "severity"])
    points = sorted(severity + [(0.0, ORACLE)])
    figure = Figure(figsize=(11, 4.5))
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    xs = [x for x, _ in points]
    ys = [methods[label]["overall"][metric] for _, label in points]
    errors = [_interval_bars(versus.get(label, {}).get(metric)) for _, label in points]
    left.errorbar(xs, ys, yerr=list(zip(*errors)), marker="o", capsize=4, label="restorer given the truth ± error")
    for label, style in ((report["full"], "--"), ("degraded input", ":")):
        left.axhline(methods[label]["overall"][metric], linestyle=style, color="grey")
        left.annotate(label, (xs[0], methods[label]["overall"][metric]), textcoords="offset points", xytext=(2, 3), fontsize=8)
    left.set_xlabel("severity error given to the restorer (points, every present degradation)")
    left.set_ylabel(LABELS.get(metric, metric))
    left.set_title("severity errors (bars: 95% CI of the difference from the oracle)")
    others = [(label, row) for label, row in methods.items() if row["table"] == "perturbation" and row["perturbation"]["kind"] != "severity"]
    names = [ORACLE] + [label for label, _ in others] + [report["full"]]
    values = [methods[label]["overall"][metric] for label in names]
    right.barh(range(len(names)), values, color=["tab:green"] + ["tab:orange"] * len(others) + ["tab:blue"])
    right.set_yticks(range(len(names)), names)
    right.invert_yaxis()
    span = max(values) - min(values)
    right.set_xlim(min(values) - max(span, 0.5), max(values) + max(span, 0.5) * 0.3)
    right.set_xlabel(LABELS.get(metric, metric))
    right.set_title("other errors")
    figure.suptitle("How robust the restorer is to diagnosis errors")
    _save(figure, path)


def _interval_bars(comparison: dict[str, Any] | None) -> tuple[float, float]:
    """(below, above) the mean for an error bar: the CI of the paired difference around its mean; none for the oracle."""
    if not comparison or comparison.get("ci") is None:
        return 0.0, 0.0
    low, high = comparison["ci"]
    mean = comparison["mean_difference"]
    return max(mean - low, 0.0), max(high - mean, 0.0)


def reliability_plot(calibration: dict[str, Any], path: Path) -> None:
    """How often a degradation was there against the probability said, with the answers per bin below."""
    from matplotlib.figure import Figure

    bins = [b for b in calibration["bins"] if b["count"]]
    figure = Figure(figsize=(5.5, 6.5))
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    top.bar([(b["low"] + b["high"]) / 2 for b in bins], [b["frequency"] for b in bins], width=0.09, alpha=0.6, label="share present")
    top.plot([b["mean_probability"] for b in bins], [b["frequency"] for b in bins], marker="o", color="tab:red", label="bin mean")
    top.set_ylabel("share of answers where it was present")
    top.set_ylim(0, 1)
    top.set_title(f"Reliability of the presence probabilities (ECE {calibration['ece']:.3f})")
    top.legend(loc="upper left", fontsize=8)
    bottom.bar([(b["low"] + b["high"]) / 2 for b in bins], [b["count"] for b in bins], width=0.09, color="tab:grey")
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("presence probability said (fog, shake, rain and noise pooled)")
    bottom.set_ylabel("answers")
    _save(figure, path)
