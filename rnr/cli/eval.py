"""rnr-eval: The paper's tables for any reasoner/restorer pair. (not yet available; it lands with issue #7)."""

from __future__ import annotations

import argparse
import sys

PROG = "rnr-eval"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="The paper's tables for any reasoner/restorer pair. Not yet available.")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def run(args: argparse.Namespace) -> int:
    print(f"{PROG}: not yet available; it lands with issue #7", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
