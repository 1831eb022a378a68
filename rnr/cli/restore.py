"""rnr-restore: Diagnose and restore photos, with --explain. (not yet available; it lands with issue #6 (the lite default))."""

from __future__ import annotations

import argparse
import sys

PROG = "rnr-restore"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Diagnose and restore photos, with --explain. Not yet available.")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def run(args: argparse.Namespace) -> int:
    print(f"{PROG}: not yet available; it lands with issue #6 (the lite default)", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
