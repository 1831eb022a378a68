"""rnr-restore: diagnose each photo, then restore it guided by the diagnosis.

    rnr-restore INPUT... [-o OUT] [--explain] [--json FILE|-] [--reasoner lite|ID|PATH]
                [--restorer lite|classical|ID|PATH] [--side-by-side] [--tile N] [--max-pixels N]

INPUT: files, folders (their images; earlier `*.restored.png` outputs are left alone) or
globs. Each result is written as `NAME.restored.png` beside its input, or in `-o OUT`;
inputs that would share a result name (`a.png` and `a.jpg`) keep their suffix
(`a.png.restored.png`), and neither an input nor another input's result is ever
overwritten. Each photo's line says where its results went (with `--explain`, its
diagnosis follows in words); `--json -` prints the diagnoses as JSON on standard output
and moves those lines to standard error. Photos above --max-pixels (default 100,000,000) are refused from their
header. The embedded default (`lite`) needs no download and no GPU. Problems with one
input are reported in one line and the others still run; the exit code is 1 if any
input failed, 2 if the options or models are unusable, 130 on Ctrl-C and 143 on
SIGTERM (finished results are kept, no partial file is left).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

PROG = "rnr-restore"
SUFFIX = ".restored.png"
MAX_PIXELS_DEFAULT = 100_000_000  # rnr.imageio.MAX_PIXELS, without importing numpy and cv2 to build the parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Diagnose what is wrong with photos, then restore them.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="photos: files, folders or globs")
    parser.add_argument("-o", "--output", metavar="OUT", help="folder for the results (default: beside each input)")
    parser.add_argument("--explain", action="store_true", help="print each diagnosis in words")
    parser.add_argument("--json", metavar="FILE", help="write every diagnosis to FILE as JSON; '-' prints it on standard output (and nothing else there)")
    parser.add_argument("--reasoner", default="lite", metavar="lite|ID|PATH", help="who diagnoses (default: lite, built in)")
    parser.add_argument("--restorer", default="lite", metavar="lite|classical|ID|PATH",
                        help="who restores (default: lite, built in; classical: the conventional inverse of each diagnosed degradation, no weights)")
    parser.add_argument("--side-by-side", action="store_true", help="also write NAME.side-by-side.png: input | restored, captioned")
    parser.add_argument("--tile", type=int, metavar="N", help="lite restorer: tile size for large photos (default 512)")
    parser.add_argument("--max-pixels", type=int, default=MAX_PIXELS_DEFAULT, metavar="N",
                        help=f"refuse photos above N pixels, read from the header (default {MAX_PIXELS_DEFAULT:,}: a decompression bomb would exhaust memory)")
    parser.add_argument("--device", default="auto", help="Qwen backends: cuda, cpu or auto")
    return parser


STDOUT = "-"
PROGRESS_DELAY_S = 2.0  # a bar appears only for work that takes longer than this


def _say(message: str) -> None:
    from tqdm import tqdm

    tqdm.write(f"{PROG}: {message}", file=sys.stderr)  # above the progress bar, not glued to it


def report(args: argparse.Namespace, text: str) -> None:
    """A photo's result lines: on standard output, unless the JSON goes there (`--json -`)."""
    from tqdm import tqdm

    tqdm.write(text, file=sys.stderr if args.json == STDOUT else sys.stdout)


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


class Terminated(BaseException):
    """SIGTERM as an exception: its default action kills at once, leaving a half-written temporary file."""


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """While inside, SIGTERM raises `Terminated`, so `atomic_write_bytes` removes its temporary file on the way out."""

    def handler(signum, frame):
        raise Terminated(signum)

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding program): signals stay as they are
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def output_path(source: Path, folder: str | None, kind: str = SUFFIX, keep_suffix: bool = False) -> Path:
    return (Path(folder) if folder else source.parent) / ((source.name if keep_suffix else source.stem) + kind)


def plan_outputs(inputs: list[Path], folder: str | None) -> tuple[dict[Path, Path], list[str]]:
    """Each input's result path, and one line for each input that cannot have one.

    The rule: `NAME.restored.png` (NAME without its suffix); inputs that would share it
    (`a.png` and `a.jpg`) keep their suffix instead (`a.png.restored.png`, `a.jpg.restored.png`).
    A result that would still be another's (`p/img.png` and `q/img.png` into one -o) or
    an input is refused: the first input in order keeps the name.
    """
    by_plain: dict[Path, list[Path]] = {}
    for source in inputs:
        by_plain.setdefault(output_path(source, folder).resolve(), []).append(source)
    planned = {}
    for group in by_plain.values():
        keep_suffix = len({source.name for source in group}) > 1  # it tells a.png from a.jpg, not p/a.png from q/a.png
        for source in group:
            planned[source] = output_path(source, folder, keep_suffix=keep_suffix)
    return refuse_clashes(inputs, planned)


def refuse_clashes(inputs: list[Path], planned: dict[Path, Path]) -> tuple[dict[Path, Path], list[str]]:
    sources = {p.resolve() for p in inputs}
    taken: dict[Path, Path] = {}
    targets, problems = {}, []
    for source in inputs:
        target = planned[source]
        key = target.resolve()
        if key in sources:
            problems.append(f"{source}: its result would overwrite the input {target}; use -o OUT")
        elif key in taken:
            problems.append(f"{source}: its result {target} would overwrite that of {taken[key]}; restore it into another -o folder")
        else:
            taken[key] = source
            targets[source] = target
    return targets, problems


def where_problem(flag: str, path: Path, folder: bool) -> str | None:
    """Why `path` (a folder to create or fill, or a file to write) cannot be written, before any work; None if it can."""
    if folder and path.exists() and not path.is_dir():
        return f"{flag} {path}: is a file, not a folder; name a folder (it is created if missing)"
    if not folder and path.is_dir():
        return f"{flag} {path}: is a folder; name a file, e.g. {path / 'diagnoses.json'}"
    existing = path if folder else path.parent
    while not os.path.lexists(existing) and existing != existing.parent:  # lexists: never raises on a folder it may not list
        existing = existing.parent
    if not existing.is_dir():
        return f"{flag} {path}: {existing} is a file, so nothing can be written under it; choose another path"
    try:
        tempfile.TemporaryFile(dir=existing).close()  # the only test that holds for root and read-only mounts
    except OSError as error:
        return f"{flag} {path}: cannot write in {existing} ({error.strerror or error}); choose a folder you can write to"
    return None


def preflight(args: argparse.Namespace) -> str | None:
    """The first problem with the options, found before any model loads or any file is written."""
    if args.tile is not None and args.tile < MIN_TILE:
        return f"--tile {args.tile}: too small; tiles overlap by 32 px on each side, so use at least --tile {MIN_TILE} (default 512)"
    if args.max_pixels < 1:
        return f"--max-pixels {args.max_pixels}: must be a positive number of pixels (default {MAX_PIXELS_DEFAULT:,})"
    if args.output and (problem := where_problem("-o", Path(args.output), folder=True)):
        return problem
    if args.json and args.json != STDOUT and (problem := where_problem("--json", Path(args.json), folder=False)):
        return problem
    return None


def run(args: argparse.Namespace) -> int:
    from rnr.imageio import pil_pixel_limit_lifted
    from rnr.pipeline import load_reasoner, load_restorer

    problem = preflight(args)
    if problem:
        _say(problem)
        return 2
    inputs, problems = collect(args.inputs)
    targets, refused = plan_outputs(inputs, args.output)
    for line in problems + refused:
        _say(line)
    written: dict[str, object] = {}
    try:
        with sigterm_raises(), pil_pixel_limit_lifted():  # --max-pixels decides, in a message that names the file
            try:
                reasoner = load_reasoner(args.reasoner, device=args.device)
                restorer = load_restorer(args.restorer, device=args.device, tile=args.tile)
            except (FileNotFoundError, ValueError) as error:
                _say(f"error: {str(error).splitlines()[0]}")
                return 2
            if args.output and (problem := make_folder(Path(args.output))):
                _say(problem)
                return 2
            started = time.perf_counter()
            failed = restore_all(args, inputs, targets, (reasoner, restorer), written)
    except KeyboardInterrupt:
        _say(f"interrupted; {len(written)} of {len(inputs)} written")
        return 130
    except Terminated:
        _say(f"terminated; {len(written)} of {len(inputs)} written")
        return 143
    if args.json and (problem := write_json(Path(args.json), written)):
        _say(problem)
        failed += 1
    if len(inputs) > 1:
        _say(f"restored {len(written)} of {len(inputs)} photos in {time.perf_counter() - started:.1f} s")
    return 1 if failed or problems or refused else 0


def make_folder(folder: Path) -> str | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"-o {folder}: cannot create this folder ({error.strerror or error}); choose a folder you can write to"
    return None


def write_json(path: Path, diagnoses: dict) -> str | None:
    from rnr.imageio import atomic_write_text

    payload = {name: d.to_dict() for name, d in diagnoses.items()}
    if str(path) == STDOUT:
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        sys.stdout.flush()
        return None
    try:
        atomic_write_text(path, json.dumps(payload, indent=2) + "\n")
    except OSError as error:
        return f"--json {path}: cannot write ({error.strerror or error}); choose a file you can write"
    return None


def restore_all(args: argparse.Namespace, inputs: list[Path], targets: dict[Path, Path], models, written: dict) -> int:
    """Restore every input that has a target, filling `written` (name -> diagnosis) as results land; returns the failures."""
    from tqdm import tqdm

    from rnr.imageio import ImageReadError, ImageTooLargeError, read_image
    from rnr.pipeline import explain, reason_and_restore

    reasoner, restorer = models
    failed = 0
    todo = [s for s in inputs if s in targets]
    for source in tqdm(todo, desc=PROG, unit="photo", disable=len(todo) < 2, leave=False, file=sys.stderr):
        target = targets[source]
        try:
            image = read_image(source, max_pixels=args.max_pixels)
        except ImageTooLargeError as error:
            _say(f"skipping {error}; to restore it anyway pass --max-pixels {max(error.pixels, args.max_pixels)}")
            failed += 1
            continue
        except ImageReadError as error:
            _say(f"skipping {error}")
            failed += 1
            continue
        try:
            with tile_progress(restorer, image, source.name):
                diagnosis, restored, hedge = reason_and_restore(image, reasoner, restorer, name=str(source))
        except MemoryError:
            _say(f"{source}: out of memory; try --tile 256")
            failed += 1
            continue
        paths, problem = write_results(args, source, target, image, restored, diagnosis, hedge)
        if problem:
            _say(problem)
            failed += 1
            continue
        written[str(source)] = diagnosis
        report(args, f"{source} -> {', '.join(map(str, paths))}" + (f"\n{explain(diagnosis, hedge)}" if args.explain else ""))
    return failed


def tile_count(height: int, width: int, tile: int, overlap: int) -> int:
    """How many tiles `restorer.lite.tiled` runs on a height x width photo."""
    from restorer.lite import tile_spans

    return len(tile_spans(height, tile, overlap)) * len(tile_spans(width, tile, overlap))


@contextlib.contextmanager
def tile_progress(restorer, image, name: str) -> Iterator[None]:
    """A bar over the lite restorer's tiles while inside, shown once a photo takes longer than PROGRESS_DELAY_S.

    The lite restorer has no progress hook, so its `forward` is wrapped on this instance
    for the duration (one call per tile) and unwrapped after. A photo restored twice (a blended
    `rnr.hedge.Hedge`) grows the bar by a second photo's tiles when the second restoration starts.
    """
    from tqdm import tqdm

    from restorer.lite import LiteRestorer

    if not isinstance(restorer, LiteRestorer) or (total := tile_count(*image.shape[:2], restorer.tile, restorer.overlap)) < 2:
        yield
        return
    bar = tqdm(total=total, desc=f"{PROG}: {name}", unit="tile", leave=False, delay=PROGRESS_DELAY_S, file=sys.stderr)
    forward = restorer.forward
    last_tile_end = 0.0

    def counted(*arguments, **options):
        nonlocal last_tile_end
        now = time.time()
        if bar.n == 0:  # time the tiles only: the whole photo's priors (denoising, kernel, haze) come before the first
            bar.start_t = bar.last_print_t = now
        if bar.n >= bar.total:  # a second restoration of the photo: its priors are no tile's either
            bar.total += total
            bar.start_t += now - last_tile_end
        result = forward(*arguments, **options)
        last_tile_end = time.time()
        bar.update()
        return result

    restorer.forward = counted
    try:
        yield
    finally:
        del restorer.forward  # the class's method again
        bar.close()


def write_results(args: argparse.Namespace, source: Path, target: Path, image, restored, diagnosis, hedge=None) -> tuple[list[Path], str | None]:
    """Write the result (and the side-by-side): the paths written, or a problem line when the disk refuses."""
    from rnr.imageio import write_image
    from rnr.pipeline import caption, side_by_side

    paths = [target]
    try:
        write_image(target, restored)
        if args.side_by_side:
            paths.append(target.with_name(target.name[: -len(SUFFIX)] + ".side-by-side.png"))
            write_image(paths[-1], side_by_side(image, restored, caption(diagnosis, args.reasoner, args.restorer, hedge)))
    except OSError as error:
        return paths, f"{source}: cannot write {paths[-1]} ({error.strerror or error}); free space or choose another -o folder"
    return paths, None


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
