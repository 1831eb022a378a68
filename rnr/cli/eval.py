"""rnr-eval: measure reasoners (and, with issue #7, restorers) on a synthesized test set.

    rnr-eval reasoner --data DIR --reasoner ID|PATH [--limit N] [--batch-size 8] [--output DIR]

`reasoner` compares each diagnosis with the sample's ground-truth record: presence
precision/recall/F1 per degradation, severity MAE, parameter errors, the share of
answers the parser could not fully read, and images/s. It prints Markdown and, with
--output, writes results.json and results.md. The restoration tables (PSNR/SSIM,
ablations, baselines) land with issue #7.
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
    parser.add_argument("--reasoner", required=True, metavar="ID|PATH", help="a Qwen3-VL model, adapter or rnr-train output")
    parser.add_argument("--limit", type=int, metavar="N", help="evaluate the first N samples only")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--output", metavar="DIR", help="write results.json and results.md here")
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="The paper's tables for any reasoner/restorer pair.")
    parser.add_argument("task", nargs="?", choices=("reasoner",), help="'reasoner': diagnosis accuracy")
    return parser


def run_reasoner(args: argparse.Namespace) -> int:
    from datasets import load_from_disk

    from reasoner.accuracy import accuracy_report, markdown
    from reasoner.qwen import QwenReasoner
    from rnr.diagnosis import Diagnosis
    from rnr.imageio import atomic_write_text

    try:
        dataset = load_from_disk(args.data)
    except (FileNotFoundError, ValueError):
        print(f"{PROG}: error: --data {args.data}: not a datasets folder; make a test set with rnr-synth", file=sys.stderr)
        return 2
    if "record" not in dataset.column_names:
        print(f"{PROG}: error: --data {args.data}: has no 'record' column; make it with rnr-synth", file=sys.stderr)
        return 2
    if args.limit is not None:
        dataset = dataset.select(range(min(args.limit, len(dataset))))
    records = [json.loads(text) for text in dataset["record"]]
    truth = [Diagnosis.from_record(record) for record in records]
    reasoner = QwenReasoner.from_pretrained(args.reasoner, device=args.device)
    started = time.perf_counter()
    results = reasoner.diagnose_detailed(dataset["degraded"], args.batch_size, names=[r["source"] for r in records])
    seconds = time.perf_counter() - started
    report = accuracy_report([r.diagnosis for r in results], truth, sum(1 for r in results if r.problems), seconds)
    report.update(reasoner=args.reasoner, data=args.data)
    table = markdown(report, title=f"Reasoner accuracy: {args.reasoner} on {args.data}")
    print(table)
    if args.output:
        out = Path(args.output)
        atomic_write_text(out / "results.json", json.dumps(report, indent=2) + "\n")
        atomic_write_text(out / "results.md", table)
        print(f"{PROG}: wrote {out / 'results.json'} and {out / 'results.md'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["reasoner"]:
        from reasoner.qwen import ReasonerLoadError

        try:
            return run_reasoner(build_reasoner_parser().parse_args(argv[1:]))
        except ReasonerLoadError as error:
            print(f"{PROG}: error: {error}", file=sys.stderr)
            return 2
    build_parser().parse_args(argv)
    print(f"{PROG}: the restoration tables are not yet available (issue #7); `rnr-eval reasoner` works", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
