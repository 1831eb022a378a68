"""rnr-eval: the paper's tables for any reasoner/restorer pair, and what the paper lacks: oracle, errors, significance.

    rnr-eval --data DIR [--clean DIR] [--reasoner lite|ID|PATH] [--restorer lite|classical|ID|PATH]
             [--ablation] [--baselines] [--perturb] [--residual] [--seed S] [--sft-restorer ID|PATH]
             [--metrics LIST] [--output DIR] [--limit N] [--sheet N] [--device auto] [--steps N] [--max-pixels N]
    rnr-eval reasoner --data DIR --reasoner lite|ID|PATH [--limit N] [--batch-size 8] [--output DIR]

DIR is any rnr-synth output (hf or folder format), a folder holding degraded/ and clean/
(or input/ and target/, lq/ and gt/) with images matched by name, a folder of degraded
images with --clean naming their ground truth, or a folder of photos alone (then the
report is no-reference: the reasoner's residual severity before and after, and the
no-reference metrics whose weights are on this machine).

Rows: the degraded input, the full pipeline and, when the set has rnr-synth records, the
oracle (the restorer given the true diagnosis); --baselines adds the conventional
restorer driven by the diagnosed parameters and the lite restorer; --ablation adds
Table 3 (w/o reasoner, w/o score, w/o parameters, w/o semantics, w/o RL); --perturb the
restorer given the truth with controlled errors (rnr.eval_perturb). Every row is compared
with the full method per sample (mean difference, bootstrap CI, Wilcoxon p). Metrics
run through pyiqa: PSNR and SSIM always when there is ground truth, LPIPS and the
no-reference metrics when their weights are on this machine, otherwise reported as
skipped with the reason.

Writes OUTPUT/results.json, OUTPUT/results.md (also printed), OUTPUT/results.csv (one
row per sample and method), OUTPUT/contact-sheet.png (input | each method | ground
truth, worst cases of the full method first) and PNG plots beside them.

`reasoner` measures diagnosis alone: presence precision/recall/F1 per degradation,
severity MAE, parameter errors, the share of answers the parser could not fully read,
images/s, which degradation is called which, severity error against true severity, and
the calibration of the presence probabilities where the reasoner gives them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PROG = "rnr-eval"


def build_reasoner_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"{PROG} reasoner", description="Reasoner accuracy on an rnr-synth set.")
    parser.add_argument("--data", required=True, metavar="DIR", help="an rnr-synth output (hf format)")
    parser.add_argument("--reasoner", required=True, metavar="lite|ID|PATH", help="lite, a Qwen3-VL model, adapter or rnr-train output")
    parser.add_argument("--limit", type=int, metavar="N", help="evaluate the first N samples only")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--output", metavar="DIR", help="write results.json and results.md here")
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="The paper's restoration tables for any reasoner/restorer pair (`rnr-eval reasoner -h`: diagnosis only)."
    )
    parser.add_argument("--data", required=True, metavar="DIR", help="an rnr-synth output, or a folder with degraded/ and clean/")
    parser.add_argument("--clean", metavar="DIR", help="ground-truth images named as those in --data (plain folders)")
    parser.add_argument("--reasoner", default="lite", metavar="lite|ID|PATH", help="who diagnoses (default: lite)")
    parser.add_argument("--restorer", default="lite", metavar="lite|classical|ID|PATH", help="the full method's restorer (default: lite)")
    parser.add_argument("--ablation", action="store_true", help="add Table 3's rows")
    parser.add_argument("--baselines", action="store_true", help="add the conventional restorer and the lite restorer")
    parser.add_argument("--perturb", action="store_true",
                        help="add the restorer given the true diagnosis with controlled errors (needs rnr-synth records)")
    parser.add_argument("--residual", action="store_true", help="score every output by the reasoner's residual severity too "
                        "(always on for photos without ground truth)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the perturbations and the bootstrap intervals (default 0)")
    parser.add_argument("--sft-restorer", metavar="ID|PATH", help="the restorer before GRPO, for the w/o RL row")
    parser.add_argument("--metrics", default=",".join(_paper_metrics()), metavar="LIST",
                        help="pyiqa metric names, comma-separated (PSNR and SSIM always run)")
    parser.add_argument("--output", default="rnr-eval", metavar="DIR", help="where the three outputs go (default: ./rnr-eval)")
    parser.add_argument("--limit", type=int, metavar="N", help="evaluate the first N samples only")
    parser.add_argument("--sheet", type=int, default=6, metavar="N", help="samples on the contact sheet (default 6; 0: none)")
    parser.add_argument("--device", default="auto", help="Qwen backends and pyiqa: cuda, cpu or auto")
    parser.add_argument("--steps", type=int, metavar="N", help="Qwen restorers: denoising steps (default: the model's 30)")
    parser.add_argument("--max-pixels", type=int, metavar="N", help="Qwen restorers: working resolution in pixels (default 1024*1024)")
    return parser


def _qwen_options(args: argparse.Namespace) -> dict:
    return {key: value for key, value in (("steps", args.steps), ("max_pixels", args.max_pixels)) if value is not None}


def _paper_metrics() -> tuple[str, ...]:
    from rnr.metrics import PAPER_METRICS

    return PAPER_METRICS


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def run_reasoner(args: argparse.Namespace) -> int:
    from reasoner.accuracy import accuracy_report, markdown
    from rnr.eval_data import EvalDataError, load_eval_set
    from rnr.eval_reasoner import markdown as analysis_markdown
    from rnr.eval_reasoner import presence_probabilities, reasoner_report
    from rnr.imageio import atomic_write_text
    from rnr.pipeline import load_reasoner

    try:
        eval_set = load_eval_set(args.data, limit=args.limit)
    except EvalDataError as error:
        _say(f"error: {error}")
        return 2
    truth = eval_set.truth
    if truth is None:
        _say(f"error: --data {args.data}: has no ground-truth diagnoses; make a test set with rnr-synth")
        return 2
    reasoner = load_reasoner(args.reasoner, device=args.device)
    started = time.perf_counter()
    results = reasoner.diagnose_detailed(eval_set.degraded, args.batch_size, names=eval_set.names)
    seconds = time.perf_counter() - started
    predicted = [r.diagnosis for r in results]
    report = accuracy_report(predicted, truth, sum(1 for r in results if r.problems), seconds)
    analysis = reasoner_report(predicted, truth, presence_probabilities(reasoner, eval_set.degraded), seconds)["reasoner_analysis"]
    report.update(reasoner=args.reasoner, data=args.data, analysis=analysis)
    table = markdown(report, title=f"Reasoner accuracy: {args.reasoner} on {args.data}") + "\n" + "\n".join(analysis_markdown(analysis)) + "\n"
    print(table)
    if args.output:
        out = Path(args.output)
        atomic_write_text(out / "results.json", json.dumps(report, indent=2) + "\n")
        atomic_write_text(out / "results.md", table)
        _say(f"wrote {out / 'results.json'} and {out / 'results.md'}")
    return 0


def build_methods(args: argparse.Namespace, restorer, diagnoses, truth=None) -> tuple[list, dict[str, str]]:
    """The rows to run, and the rows that cannot run with why; `truth` (the records' diagnoses) adds the oracle."""
    from rnr.evaluation import ORACLE, Method
    from rnr.pipeline import CLASSICAL, LITE, load_restorer

    full = f"full ({args.restorer})"
    methods = [Method("degraded input")]
    skipped: dict[str, str] = {}
    if args.baselines:
        methods.append(Method("conventional (diagnosed parameters)", load_restorer(CLASSICAL)))
        if args.restorer != LITE:
            methods.append(Method("lite restorer", load_restorer(LITE)))
    methods.append(Method(full, restorer))
    if truth is not None:
        methods.append(Method(ORACLE, restorer, diagnoses=truth))
    else:
        skipped[ORACLE] = "the set has no ground-truth diagnoses (make it with rnr-synth)"
    if args.ablation:
        methods += ablation_rows(args, restorer, diagnoses, full, skipped)
    if args.perturb:
        methods += perturbation_rows(args, restorer, truth, skipped)
    return methods, skipped


def ablation_rows(args: argparse.Namespace, restorer, diagnoses, full: str, skipped: dict[str, str]) -> list:
    """Table 3: the same restorer given less of the diagnosis, the restorer before GRPO, and the full row again."""
    from restorer.prompts import ABLATIONS
    from rnr.evaluation import Method
    from rnr.pipeline import load_restorer

    methods = []
    for label, ablation in ABLATIONS.items():
        if label == "full":
            continue
        if not hasattr(restorer, "ablation"):
            skipped[label] = f"the {args.restorer} restorer takes no conditioning switches"
        elif label == "w/o semantics" and not any(d is not None and d.scene for d in diagnoses):
            skipped[label] = "the reasoner gave no scene text, so this row equals the full one"
        else:
            methods.append(Method(label, restorer, ablation, table="ablation"))
    sft = args.sft_restorer or _default_sft(args.restorer)
    if sft is None:
        skipped["w/o RL"] = "give the restorer before GRPO with --sft-restorer"
    else:
        methods.append(Method("w/o RL", load_restorer(sft, device=args.device, **_qwen_options(args)), table="ablation"))
    methods.append(Method("full", restorer, table="ablation", same_as=full))
    return methods


def perturbation_rows(args: argparse.Namespace, restorer, truth, skipped: dict[str, str]) -> list:
    """The restorer given the records' truth with controlled errors (rnr.eval_perturb), seeded by --seed."""
    from rnr.eval_perturb import PERTURBATIONS, perturbed
    from rnr.evaluation import Method

    if truth is None:
        for perturbation in PERTURBATIONS:
            skipped[perturbation.label] = "perturbations start from the ground-truth diagnoses, which the set lacks"
        return []
    return [Method(p.label, restorer, table="perturbation", diagnoses=perturbed(truth, p, args.seed), perturbation=p.as_dict())
            for p in PERTURBATIONS]


def _default_sft(restorer_name: str) -> str | None:
    from restorer.lite import SFT_WEIGHTS
    from rnr.pipeline import LITE

    if restorer_name == LITE and SFT_WEIGHTS.is_file():
        return str(SFT_WEIGHTS)
    return None


def metric_names(args: argparse.Namespace, has_reference: bool) -> list[str]:
    """--metrics; without ground truth only the no-reference ones (and unknown names, to be reported)."""
    import pyiqa

    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if has_reference:
        return names
    known, no_reference = set(pyiqa.list_models()), set(pyiqa.list_models(metric_mode="NR"))
    return [n for n in names if n in no_reference or n not in known]


def run_tables(args: argparse.Namespace) -> int:
    try:
        import pyiqa  # noqa: F401
    except ImportError:
        _say("error: the tables' metrics come from pyiqa, which is not installed: pip install -e '.[eval]'")
        return 2
    from rnr.eval_data import EvalDataError, load_eval_set

    try:
        eval_set = load_eval_set(args.data, args.clean, args.limit)
    except EvalDataError as error:
        _say(f"error: {error}")
        return 2
    except ValueError as error:  # an unreadable image in the set
        _say(f"error: {str(error).splitlines()[0]}; fix or remove it")
        return 2
    try:
        report, extras = run_rows(args, eval_set)
    except ValueError as error:  # a model that cannot be loaded (RestorerLoadError is one), a missing package
        _say(f"error: {str(error).splitlines()[0]}")
        return 2
    written = write_outputs(args, report, *extras)
    print((Path(args.output) / "results.md").read_text(), end="")
    _say("wrote " + ", ".join(str(p) for p in written))
    return 0


def run_rows(args: argparse.Namespace, eval_set) -> tuple[dict, tuple]:
    """Diagnose, run every row, score: the report, and what the pictures need (set, rows, scores)."""
    from rnr.devices import resolve_device
    from rnr.eval_reasoner import presence_probabilities
    from rnr.evaluation import build_report, evaluate
    from rnr.metrics import MetricSuite
    from rnr.pipeline import load_reasoner, load_restorer

    reasoner = load_reasoner(args.reasoner, device=args.device)
    restorer = load_restorer(args.restorer, device=args.device, **_qwen_options(args))
    started = time.perf_counter()
    diagnoses, hedges = (list(column) for column in zip(*reasoner.diagnose_hedged(eval_set.degraded, names=eval_set.names)))
    reasoner_seconds = (time.perf_counter() - started) / len(eval_set)
    truth = eval_set.truth
    methods, skipped_rows = build_methods(args, restorer, diagnoses, truth)
    suite = MetricSuite.create(metric_names(args, eval_set.has_reference), device=resolve_device(args.device))
    judge = reasoner if args.residual or not eval_set.has_reference else None
    result = evaluate(eval_set, methods, diagnoses, suite, progress=True, judge=judge, hedges=hedges)
    probabilities = presence_probabilities(reasoner, eval_set.degraded) if truth is not None else None
    report = build_report(eval_set, methods, diagnoses, result, suite, reasoner_seconds, args.seed, probabilities)
    report.update(data=args.data, reasoner=args.reasoner, restorer=args.restorer, skipped_rows=skipped_rows, seed=args.seed)
    return report, (eval_set, methods, result)


def write_outputs(args: argparse.Namespace, report: dict, eval_set, methods, result) -> list[Path]:
    """The sheet and the plots, then results.json, results.md and results.csv (each temp-then-rename)."""
    from rnr.eval_report import markdown, per_sample_csv
    from rnr.evaluation import worst_cases_sheet
    from rnr.imageio import atomic_write_text, write_image

    out = Path(args.output)
    written = []
    if args.sheet > 0:
        rows, sheet = worst_cases_sheet(eval_set, methods, result, args.sheet)
        write_image(out / "contact-sheet.png", sheet)
        report.update(sheet="contact-sheet.png", sheet_rows=rows)
        written.append(out / "contact-sheet.png")
    written += write_plots(report, out)
    atomic_write_text(out / "results.json", json.dumps(report, indent=2, default=float) + "\n")
    atomic_write_text(out / "results.md", markdown(report))
    atomic_write_text(out / "results.csv", per_sample_csv(report))
    return written + [out / "results.json", out / "results.md", out / "results.csv"]


def write_plots(report: dict, out: Path) -> list[Path]:
    """PSNR by severity band, the perturbation curve, the reliability diagram: those the report has data for."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        report["plots_skipped"] = "matplotlib is not installed: pip install -e '.[eval]'"
        return []
    from rnr import eval_plots

    plots = {"severity_bands": ("severity-bands.png", eval_plots.severity_band_plot, report)}
    if "perturbation_vs_oracle" in report:
        plots["perturbation"] = ("perturbation.png", eval_plots.perturbation_plot, report)
    calibration = (report.get("reasoner_analysis") or {}).get("calibration")
    if calibration:
        plots["reliability"] = ("reliability.png", eval_plots.reliability_plot, calibration)
    for key, (name, draw, data) in plots.items():
        draw(data, out / name)
    report["plots"] = {key: name for key, (name, _, _) in plots.items()}
    return [out / name for name, _, _ in plots.values()]


def main(argv: list[str] | None = None) -> int:
    from reasoner.qwen import ReasonerLoadError
    from restorer.qwen import RestorerLoadError

    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["reasoner"]:
            return run_reasoner(build_reasoner_parser().parse_args(argv[1:]))
        return run_tables(build_parser().parse_args(argv))
    except (ReasonerLoadError, RestorerLoadError, FileNotFoundError) as error:
        _say(f"error: {str(error).splitlines()[0]}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
