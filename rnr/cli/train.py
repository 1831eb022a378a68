"""rnr-train: Train the reasoner, the restorer, or GRPO-refine the restorer. (not yet available; it lands with issue #3, #4 and #5 (reasoner, restorer and grpo stages))."""

from __future__ import annotations

import argparse
import sys

PROG = "rnr-train"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Train the reasoner, the restorer, or GRPO-refine the restorer. Not yet available.")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def run(args: argparse.Namespace) -> int:
    print(f"{PROG}: not yet available; it lands with issue #3, #4 and #5 (reasoner, restorer and grpo stages)", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
