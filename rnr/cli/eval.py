"""rnr-eval: the paper's tables for any reasoner/restorer pair, with pictures.

    rnr-eval --data DIR [--clean DIR] [--reasoner lite|ID|PATH] [--restorer lite|classical|ID|PATH]
             [--ablation] [--baselines] [--sft-restorer ID|PATH] [--metrics LIST]
             [--output DIR] [--limit N] [--sheet N] [--device auto] [--steps N] [--max-pixels N]
    rnr-eval reasoner --data DIR --reasoner lite|ID|PATH [--limit N] [--batch-size 8] [--output DIR]

DIR is any rnr-synth output (hf or folder format), a folder holding degraded/ and clean/
(or input/ and target/, lq/ and gt/) with images matched by name, or a folder of degraded
images with --clean naming their ground truth.

Rows: the degraded input and the full pipeline; --baselines adds the conventional
restorer driven by the diagnosed parameters and the lite restorer; --ablation adds
Table 3 (w/o reasoner, w/o score, w/o parameters, w/o semantics, w/o RL). Metrics run
through pyiqa: PSNR and SSIM always, LPIPS and the no-reference metrics when their
weights are on this machine, otherwise reported as skipped with the reason.

Writes OUTPUT/results.json, OUTPUT/results.md (also printed) and OUTPUT/contact-sheet.png
(input | each method | ground truth, worst cases of the full method first).

`reasoner` measures diagnosis alone: presence precision/recall/F1 per degradation,
severity MAE, parameter errors, the share of answers the parser could not fully read,
and images/s.
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
    from rnr.evaluation import EvalDataError, load_eval_set
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
    report = accuracy_report([r.diagnosis for r in results], truth, sum(1 for r in results if r.problems), seconds)
    report.update(reasoner=args.reasoner, data=args.data)
    table = markdown(report, title=f"Reasoner accuracy: {args.reasoner} on {args.data}")
    print(table)
    if args.output:
        out = Path(args.output)
        atomic_write_text(out / "results.json", json.dumps(report, indent=2) + "\n")
        atomic_write_text(out / "results.md", table)
        _say(f"wrote {out / 'results.json'} and {out / 'results.md'}")
    return 0


def build_methods(args: argparse.Namespace, restorer, diagnoses) -> tuple[list, dict[str, str]]:
    """The rows to run, and the rows that cannot run with why."""
    from restorer.prompts import ABLATIONS
    from rnr.evaluation import Method
    from rnr.pipeline import CLASSICAL, LITE, load_restorer

    full = f"full ({args.restorer})"
    methods = [Method("degraded input")]
    skipped: dict[str, str] = {}
    if args.baselines:
        methods.append(Method("conventional (diagnosed parameters)", load_restorer(CLASSICAL)))
        if args.restorer != LITE:
            methods.append(Method("lite restorer", load_restorer(LITE)))
    methods.append(Method(full, restorer))
    if not args.ablation:
        return methods, skipped
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
    return methods, skipped


def _default_sft(restorer_name: str) -> str | None:
    from restorer.lite import SFT_WEIGHTS
    from rnr.pipeline import LITE

    if restorer_name == LITE and SFT_WEIGHTS.is_file():
        return str(SFT_WEIGHTS)
    return None


def run_tables(args: argparse.Namespace) -> int:
    try:
        import pyiqa  # noqa: F401
    except ImportError:
        _say("error: the tables' metrics come from pyiqa, which is not installed: pip install -e '.[eval]'")
        return 2
    from rnr.devices import resolve_device
    from rnr.evaluation import EvalDataError, build_report, evaluate, load_eval_set, markdown, worst_cases_sheet
    from rnr.imageio import atomic_write_text, write_image
    from rnr.metrics import MetricSuite
    from rnr.pipeline import load_reasoner, load_restorer

    try:
        eval_set = load_eval_set(args.data, args.clean, args.limit)
    except EvalDataError as error:
        _say(f"error: {error}")
        return 2
    except ValueError as error:  # an unreadable image in the set
        _say(f"error: {str(error).splitlines()[0]}; fix or remove it")
        return 2
    try:
        reasoner = load_reasoner(args.reasoner, device=args.device)
        restorer = load_restorer(args.restorer, device=args.device, **_qwen_options(args))
        started = time.perf_counter()
        diagnoses = reasoner.diagnose(eval_set.degraded, names=eval_set.names)
        reasoner_seconds = (time.perf_counter() - started) / len(eval_set)
        methods, skipped_rows = build_methods(args, restorer, diagnoses)
    except ValueError as error:  # a model that cannot be loaded (RestorerLoadError is one), a missing package
        _say(f"error: {str(error).splitlines()[0]}")
        return 2
    suite = MetricSuite.create([m.strip() for m in args.metrics.split(",") if m.strip()], device=resolve_device(args.device))
    result = evaluate(eval_set, methods, diagnoses, suite, progress=True)

    report = build_report(eval_set, methods, diagnoses, result, suite, reasoner_seconds)
    report.update(data=args.data, reasoner=args.reasoner, restorer=args.restorer, skipped_rows=skipped_rows)
    out = Path(args.output)
    if args.sheet > 0:
        rows, sheet = worst_cases_sheet(eval_set, methods, result, args.sheet)
        write_image(out / "contact-sheet.png", sheet)
        report.update(sheet=str(out / "contact-sheet.png"), sheet_rows=rows)
    table = markdown(report)
    atomic_write_text(out / "results.json", json.dumps(report, indent=2, default=float) + "\n")
    atomic_write_text(out / "results.md", table)
    print(table)
    _say(f"wrote {out / 'results.json'}, {out / 'results.md'}" + (f" and {out / 'contact-sheet.png'}" if args.sheet > 0 else ""))
    return 0


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
