"""rnr-eval's report as people read it: results.md (tables shaped like the paper's, then ours) and results.csv.

`markdown` renders the report `rnr.evaluation.build_report` makes (and results.json
holds); `per_sample_csv` flattens its per-sample scores, one row per sample and method,
for pandas or a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from rnr.diagnosis import DEGRADATIONS, Diagnosis
from rnr.eval_stats import CONFIDENCE
from rnr.metrics import LABELS

RESIDUAL_LABEL = "residual severity"


def label_of(name: str) -> str:
    return RESIDUAL_LABEL if name == "residual_severity" else LABELS.get(name, name)


def cell(value: float | None, name: str) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if name in ("psnr", "musiq", "niqe", "residual_severity") else f"{value:.4f}"


def arrow(lower_better: dict[str, bool], name: str) -> str:
    return label_of(name) + ("↓" if lower_better.get(name) else "↑")


def method_table(report: dict[str, Any], table: str) -> list[str]:
    metrics, lower = report["metrics"], report["lower_better"]
    lines = ["| method | " + " | ".join(arrow(lower, m) for m in metrics) + " | s/image |",
             "|---|" + "---:|" * (len(metrics) + 1)]
    for label, row in report["methods"].items():
        if row["table"] != table:
            continue
        cells = " | ".join(cell(row["overall"].get(m), m) for m in metrics)
        lines.append(f"| {label} | {cells} | {row['seconds_per_image']:.3f} |")
    return lines


def breakdown_rows(report: dict[str, Any]) -> list[str]:
    return [label for label, row in report["methods"].items() if not row.get("same_as") and row["table"] != "perturbation"]


def breakdown_table(report: dict[str, Any], key: str) -> list[str]:
    labels = breakdown_rows(report)
    first, second = (report["metrics"] + [None])[:2]
    lines = ["| " + key + " | n | " + " | ".join(labels) + " |", "|---|---:|" + "---:|" * len(labels)]
    for group, entry in report["breakdowns"][key].items():
        cells = []
        for label in labels:
            scores = entry["methods"][label]
            text = cell(scores.get(first), first)
            cells.append(text if second is None else f"{text} / {cell(scores.get(second), second)}")
        lines.append(f"| {group} | {entry['count']} | " + " | ".join(cells) + " |")
    return lines


def comparison_table(comparisons: dict[str, dict[str, Any]], metric: str, against: str) -> list[str]:
    """One line per row: mean paired difference, its CI, the Wilcoxon p-value, the verdict."""
    name = label_of(metric)
    lines = [f"| row | n | mean Δ {name} vs {against} | {CONFIDENCE:.0%} bootstrap CI | Wilcoxon p | |",
             "|---|---:|---:|---|---:|---|"]
    for label, per_metric in comparisons.items():
        c = per_metric.get(metric)
        if c is None or c["mean_difference"] is None:
            continue
        ci = "—" if c["ci"] is None else f"[{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}]"
        p = "—" if c["p_value"] is None else f"{c['p_value']:.3g}"
        lines.append(f"| {label} | {c['n']} | {c['mean_difference']:+.3f} | {ci} | {p} | {c['verdict']} |")
    return lines


def headline(report: dict[str, Any]) -> str:
    from rnr.eval_plots import headline_metric

    return headline_metric(report)


def oracle_lines(report: dict[str, Any]) -> list[str]:
    from rnr.evaluation import ORACLE

    if ORACLE not in report["methods"]:
        return []
    metric = headline(report)
    gap = report["significance"].get(ORACLE, {}).get(metric)
    if gap is None or gap["mean_difference"] is None:
        return []
    ci = "" if gap["ci"] is None else f" (95% CI {gap['ci'][0]:+.2f} to {gap['ci'][1]:+.2f}, {gap['verdict']})"
    return ["", f"Oracle gap: the restorer given the records' true diagnosis scores {gap['mean_difference']:+.2f} "
            f"{label_of(metric)} against the reasoner's diagnosis{ci}: what a better reasoner could still buy."]


def perturbation_lines(report: dict[str, Any]) -> list[str]:
    rows = {label: row for label, row in report["methods"].items() if row["table"] == "perturbation"}
    if not rows:
        return []
    metric = headline(report)
    lines = ["", "## Diagnoses with controlled errors (the records' truth, perturbed)", "",
             "The same restorer given the ground truth made wrong on purpose (docs/EVAL.md says how, seed "
             f"{report.get('seed', 0)}); differences are paired against the oracle row.", "",
             "| diagnosis given | " + " | ".join(arrow(report["lower_better"], m) for m in report["metrics"]) + " |",
             "|---|" + "---:|" * len(report["metrics"])]
    for label, row in rows.items():
        lines.append(f"| {label} | " + " | ".join(cell(row["overall"].get(m), m) for m in report["metrics"]) + " |")
    if report.get("perturbation_vs_oracle"):
        lines += ["", *comparison_table(report["perturbation_vs_oracle"], metric, "oracle")]
    if report.get("plots", {}).get("perturbation"):
        lines += ["", f"![{label_of(metric)} against diagnosis error]({report['plots']['perturbation']})"]
    return lines


def residual_lines(report: dict[str, Any]) -> list[str]:
    if not report.get("residual"):
        return []
    lines = ["", f"## Residual severity ({report['reasoner']} reasoner as the judge)", "",
             "The reasoner's severity of each degradation in each row's output (the soft score GRPO rewards on, 0-100); "
             "reduction: the input's sum minus the output's (the paper's reward, as a metric).", "",
             "| row | " + " | ".join(DEGRADATIONS) + " | reduction ↑ |", "|---|" + "---:|" * (len(DEGRADATIONS) + 1)]
    for label, entry in report["residual"].items():
        cells = " | ".join(f"{entry['after'].get(n, 0.0):.1f}" for n in DEGRADATIONS)
        reduction = "—" if entry["reduction"] is None else f"{entry['reduction']:+.1f}"
        lines.append(f"| {label} | {cells} | {reduction} |")
    return lines


def markdown(report: dict[str, Any]) -> str:
    """Tables shaped like the paper's (Table 2, Table 3), then significance, oracle and perturbations, breakdowns, the reasoner."""
    from reasoner.accuracy import markdown as accuracy_markdown
    from rnr.eval_reasoner import markdown as analysis_markdown

    means = (f"Table means are over the {report['overall_samples']} degraded samples; clean ones are in the breakdowns."
             if report["has_reference"] else
             "No ground truth (photos alone): no-reference metrics and the reasoner's residual severity only; means over every photo.")
    lines = [f"# rnr-eval: {report['restorer']} restorer, {report['reasoner']} reasoner",
             "", f"{report['samples']} samples of {report['data']} ({report['kind']}); "
             f"diagnosis {report['reasoner_seconds_per_image']:.3f} s/image (not in the rows' s/image). {means}", "",
             "## Methods (Table 2)", "", *method_table(report, "methods"), *oracle_lines(report)]
    if any(row["table"] == "ablation" for row in report["methods"].values()):
        lines += ["", "## Ablations (Table 3)", "", "Inference-time: the same weights given less of the diagnosis "
                  "(the paper retrains a model per row).", "", *method_table(report, "ablation")]
    metric = headline(report)
    lines += ["", f"## Against the full method ({report['full']}), paired per sample", "",
              f"Interval covering 0: not different at this sample size. Every metric's comparison is in results.json (`significance`).", "",
              *comparison_table(report["significance"], metric, "full")]
    lines += perturbation_lines(report) + residual_lines(report)
    source = "ground truth" if report["grouped_by"] == "ground truth" else "the reasoner's diagnosis (no ground-truth records)"
    pair = " / ".join(label_of(m) for m in report["metrics"][:2])
    for key, title in (("combination", "By degradation combination"), ("severity", "By severity band (strongest degradation)")):
        lines += ["", f"## {title}: {pair}", "", f"Grouped by {source}.", "", *breakdown_table(report, key)]
    if report.get("plots", {}).get("severity_bands"):
        lines += ["", f"![{label_of(metric)} by severity band per degradation]({report['plots']['severity_bands']})"]
    for label, reason in report["skipped_rows"].items():
        lines += ["", f"Row skipped: {label} — {reason}"]
    if report["skipped_metrics"]:
        lines += ["", "## Skipped metrics", ""] + [f"- {label_of(n)}: {why}" for n, why in report["skipped_metrics"].items()]
    if report.get("reasoner_accuracy"):
        lines += ["", accuracy_markdown(report["reasoner_accuracy"], title="Reasoner accuracy (ground truth: the set's records)").rstrip()]
        lines += ["", *analysis_markdown(report["reasoner_analysis"], report.get("plots", {}).get("reliability"))]
    if report.get("sheet"):
        order = "by the full method's PSNR" if report["has_reference"] else "by the residual severity in the full method's output"
        lines += ["", f"Contact sheet (worst {report['sheet_rows']} {order} first): [{report['sheet']}]({report['sheet']})"]
    return "\n".join(lines) + "\n"


def per_sample_csv(report: dict[str, Any]) -> str:
    """One row per sample and method: index, name, method, table, the true and the diagnosed combination and band, every score."""
    from rnr.evaluation import combination, severity_band

    metrics = report["metrics"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["index", "name", "method", "table", "true", "true_band", "diagnosed", "diagnosed_band", *metrics])
    for index, sample in enumerate(report["per_sample"]):
        diagnosis = Diagnosis.from_dict(sample["diagnosis"])
        truth = Diagnosis.from_dict(sample["truth"]) if sample.get("truth") else None
        known = ["", ""] if truth is None else [combination(truth), severity_band(truth)]
        for label, scores in sample["scores"].items():
            values = ["" if scores.get(m) is None else repr(float(scores[m])) for m in metrics]
            writer.writerow([index, sample["name"], label, report["methods"][label]["table"], *known,
                             combination(diagnosis), severity_band(diagnosis), *values])
    return buffer.getvalue()
