"""rnr-restore: diagnose each photo, then restore it guided by the diagnosis.

    rnr-restore INPUT... [-o OUT] [--explain] [--json FILE] [--reasoner lite|ID|PATH]
                [--restorer lite|ID|PATH] [--side-by-side] [--tile N]

INPUT: files, folders (their images; earlier `*.restored.png` outputs are left alone) or
globs. Each result is written as `NAME.restored.png` beside its input, or in `-o OUT`;
an input is never overwritten. The embedded default (`lite`) needs no download and no
GPU. Problems with one input are reported in one line and the others still run; the
exit code is 1 if any input failed, 2 if the models could not be loaded.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from pathlib import Path

PROG = "rnr-restore"
SUFFIX = ".restored.png"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Diagnose what is wrong with photos, then restore them.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="photos: files, folders or globs")
    parser.add_argument("-o", "--output", metavar="OUT", help="folder for the results (default: beside each input)")
    parser.add_argument("--explain", action="store_true", help="print each diagnosis in words")
    parser.add_argument("--json", metavar="FILE", help="write every diagnosis to FILE as JSON")
    parser.add_argument("--reasoner", default="lite", metavar="lite|ID|PATH", help="who diagnoses (default: lite, built in)")
    parser.add_argument("--restorer", default="lite", metavar="lite|ID|PATH", help="who restores (default: lite, built in)")
    parser.add_argument("--side-by-side", action="store_true", help="also write NAME.side-by-side.png: input | restored, captioned")
    parser.add_argument("--tile", type=int, metavar="N", help="lite restorer: tile size for large photos (default 512)")
    parser.add_argument("--device", default="auto", help="Qwen backends: cuda, cpu or auto")
    return parser


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def collect(specs: list[str]) -> tuple[list[Path], list[str]]:
    """(image paths, one problem line per spec that named nothing)."""
    from rnr.imageio import IMAGE_SUFFIXES

    found: list[Path] = []
    problems = []
    for spec in specs:
        path = Path(spec)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += sorted(
                p for p in path.iterdir()
                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.endswith((SUFFIX, ".side-by-side.png"))
            )
        else:
            matches = sorted(Path(m) for m in glob.glob(spec) if Path(m).is_file())
            if matches:
                found += matches
            else:
                problems.append(f"{spec}: no such file, folder or matching photos; check the path")
    unique = list(dict.fromkeys(found))
    return unique, problems


MIN_TILE = 128  # the lite restorer blends tiles over 32 px on each side: smaller tiles would be mostly seam


def output_path(source: Path, folder: str | None, kind: str = SUFFIX) -> Path:
    return (Path(folder) if folder else source.parent) / (source.stem + kind)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from rnr.imageio import ImageReadError, atomic_write_text, read_image, write_image
    from rnr.pipeline import explain, load_reasoner, load_restorer, side_by_side

    if args.tile is not None and args.tile < MIN_TILE:
        _say(f"--tile {args.tile}: too small; tiles overlap by 32 px on each side, so use at least --tile {MIN_TILE} (default 512)")
        return 2
    inputs, problems = collect(args.inputs)
    for line in problems:
        _say(line)
    try:
        reasoner = load_reasoner(args.reasoner, device=args.device)
        restorer = load_restorer(args.restorer, device=args.device, tile=args.tile)
    except (FileNotFoundError, ValueError) as error:
        _say(f"error: {str(error).splitlines()[0]}")
        return 2
    sources = {p.resolve() for p in inputs}
    failed = len(problems)
    diagnoses = {}
    started = time.perf_counter()
    for source in tqdm(inputs, desc=PROG, unit="photo", disable=len(inputs) < 2):
        target = output_path(source, args.output)
        if target.resolve() in sources:
            _say(f"{source}: its result would overwrite the input {target}; use -o OUT")
            failed += 1
            continue
        try:
            image = read_image(source)
        except ImageReadError as error:
            _say(f"skipping {error}")
            failed += 1
            continue
        try:
            diagnosis = reasoner.diagnose([image], names=[str(source)])[0]
            restored = restorer.restore([image], [diagnosis])[0]
        except MemoryError:
            _say(f"{source}: out of memory; try --tile 256")
            failed += 1
            continue
        write_image(target, restored)
        diagnoses[str(source)] = diagnosis
        if args.explain:
            print(f"{source} -> {target}\n{explain(diagnosis)}")
        if args.side_by_side:
            caption = explain(diagnosis).replace("  ", "", 1)
            write_image(output_path(source, args.output, ".side-by-side.png"), side_by_side(image, restored, caption))
    if args.json:
        payload = {name: d.to_dict() for name, d in diagnoses.items()}
        atomic_write_text(args.json, json.dumps(payload, indent=2) + "\n")
    if len(inputs) > 1:
        _say(f"restored {len(diagnoses)} of {len(inputs)} photos in {time.perf_counter() - started:.1f} s")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
