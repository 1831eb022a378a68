"""rnr-synth: turn clean photos into a degradation training set (HF datasets + SFT conversations).

    rnr-synth --input DIR|GLOB|FILE|bundled --output DIR --num N --seed S [--size 512]
              [--workers W] [--format hf|folder] [--fit crop|resize] [--depth DIR]
              [--depth-kind depth|disparity] [--depth-model ID] [--captions FILE]
              [--captioner MODEL] [--shard I/N] [--preview FILE.png] [--no-stages] [--strict]
              [--max-pixels N] [--config FILE.yaml] [key=value ...]
    rnr-synth --merge SHARD_DIR [SHARD_DIR ...] --output DIR

Crops: each sample is a random square window of its photo (side drawn between --size
and the photo's shorter side) resized to --size; `--fit resize` takes the centred
square instead. A photo smaller than --size is first upscaled (bicubic) to cover it,
and its record says `"upscaled": true`. With `soft_share=S` a share S of the clean
crops is softened (Gaussian, `soft_sigma` px) before degrading and the record says by
how much (`"soft_sigma"`, 0 when not): real photos are not all crisp.

Photos above --max-pixels (default 100,000,000) are skipped, named in one line, like
unreadable ones. The manifest holds each input's name, size and content hash, so a
photo replaced under the same name between a kill and the resume is found, and the run
refuses to mix old and new samples. Workers die with the parent, even by SIGKILL.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

PROG = "rnr-synth"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Synthesize fog, camera shake, rain and noise on clean photos, logging every parameter.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "Overrides set any degradation range or probability, e.g. fog.beta=[0.8,2.0] p_rain=0.3 "
            "clean_share=0.2 (see configs/synth/default.yaml)."
        ),
    )
    parser.add_argument("--input", nargs="+", metavar="PATH", help="photos: files, folders, globs, a datasets folder, or 'bundled'")
    parser.add_argument("--output", required=True, metavar="DIR", help="folder to write (created; resumed if it holds this job)")
    parser.add_argument("--num", type=int, metavar="N", help="number of samples in the whole job (all shards together)")
    parser.add_argument("--seed", type=int, default=0, help="global seed; sample i is a pure function of (seed, i)")
    parser.add_argument("--size", type=int, default=512, help="side of the square samples, in pixels (default 512)")
    parser.add_argument("--fit", choices=("crop", "resize"), default="crop", help="random crop (default) or centred square")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1), help="processes (default: cores, max 4)")
    parser.add_argument("--format", choices=("hf", "folder"), default="hf", help="datasets on disk (default) or PNGs + JSONL")
    parser.add_argument("--depth", metavar="DIR", help="depth maps named like the photos (.npy, .png, .tif)")
    parser.add_argument("--depth-kind", choices=("depth", "disparity"), default="depth", help="what --depth maps hold")
    parser.add_argument("--depth-model", metavar="ID", help="a transformers depth-estimation model (folder or cached hub id)")
    parser.add_argument("--captions", metavar="FILE", help='scene texts, JSONL of {"stem": ..., "text": ...}')
    parser.add_argument("--captioner", metavar="MODEL", help="a Qwen3-VL model that describes each clean crop (the scene text)")
    parser.add_argument("--caption-batch", type=int, default=8, metavar="N", help="images per captioner batch (default 8)")
    parser.add_argument("--shard", default="0/1", metavar="I/N", help="write only part I of N (merge them with --merge)")
    parser.add_argument("--preview", metavar="FILE.png", help="write a contact sheet of the first samples")
    parser.add_argument("--no-stages", dest="stages", action="store_false", help="do not store the image after each stage")
    parser.add_argument("--strict", action="store_true", help="stop on unreadable inputs instead of skipping them")
    parser.add_argument("--max-pixels", type=int, default=100_000_000, metavar="N",
                        help="skip photos above N pixels, read from the header (default 100,000,000: a decompression bomb would exhaust memory)")
    parser.add_argument("--config", metavar="FILE.yaml", help="degradation config (probabilities and ranges)")
    parser.add_argument("--merge", nargs="+", metavar="DIR", help="merge finished shards into --output")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    return parser


def _parse_shard(text: str) -> tuple[int, int]:
    from rnr.synth import SynthError

    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise SynthError(f"--shard {text}: write I/N, e.g. 0/4") from None
    return index, count


def check_counts(args: argparse.Namespace) -> None:
    """Counts that must be positive, and the seed, refused before anything is read or written."""
    from rnr.synth import SynthError

    for flag, value in (("--workers", args.workers), ("--caption-batch", args.caption_batch), ("--max-pixels", args.max_pixels)):
        if value < 1:
            raise SynthError(f"{flag} must be at least 1, got {value}")
    if args.seed < 0:
        raise SynthError(f"--seed must be 0 or more (numpy's generators take no negative seeds), got {args.seed}")


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from degradations.compose import SynthConfig
    from rnr import synth
    from rnr.config import load_config
    from rnr.imageio import write_image
    from rnr.preview import contact_sheet

    if args.merge:
        rows, _ = synth.merge(args.merge, args.output)
        print(f"{PROG}: merged {len(args.merge)} shards, {rows} samples, into {args.output}")
        return 0
    if not args.input or args.num is None:
        raise synth.SynthError("--input and --num are required (or --merge to join shards)")
    check_counts(args)

    synth._quiet_datasets()
    config = load_config(SynthConfig, args.config, args.overrides)
    refs = synth.collect_inputs(args.input)
    captions = synth.load_captions(args.captions)
    if args.depth is not None and not Path(args.depth).is_dir():
        raise synth.SynthError(f"--depth {args.depth}: not a folder")
    if args.captioner is not None:
        from reasoner.qwen import check_is_qwen3_vl

        check_is_qwen3_vl(args.captioner)  # before anything is written
    if args.depth_model is not None:
        try:
            synth._depth_model(args.depth_model)  # fail now, not inside a worker
        except ValueError as error:
            raise synth.SynthError(str(error)) from None

    valid, skipped = checked_inputs(args, refs)
    job = make_job(args, valid, config, captions)
    state = synth.prepare_output(job)
    total = job.stop - job.start
    made, elapsed = 0, 0.0
    if state == "complete":
        print(f"{PROG}: {args.output} already holds this dataset, complete; nothing to do")
    else:
        try:
            job, made, elapsed = write_dataset(args, job, skipped)
        except KeyboardInterrupt:
            _say("interrupted; run the same command again to resume")
            return 130
    if skipped:
        from rnr.imageio import atomic_write_text

        atomic_write_text(Path(args.output) / "skipped.txt", "\n".join(skipped) + "\n")
    if args.preview:
        write_image(args.preview, contact_sheet(synth.preview_samples(job)))
    if made:
        rate = made / elapsed if elapsed > 0 else float("inf")
        note = f"; skipped {len(skipped)} input(s), listed in {Path(args.output) / 'skipped.txt'}" if skipped else ""
        print(f"{PROG}: wrote {total} samples to {args.output} ({args.format}) in {elapsed:.1f} s, {rate:.1f} samples/s{note}")
    return 0


def checked_inputs(args: argparse.Namespace, refs: list) -> tuple[list, list[str]]:
    """(the inputs that decode, with their content digests; one line for each that does not)."""
    from tqdm import tqdm

    from rnr import synth

    valid, skipped = [], []
    checks = synth.check_inputs(refs, args.workers, args.max_pixels)
    for ref, problem in tqdm(checks, total=len(refs), desc="checking inputs", unit="img", disable=args.quiet, leave=False):
        if problem is None:
            valid.append(ref)
        else:
            _say(f"skipping {problem}")
            skipped.append(problem)
    if skipped and args.strict:
        raise synth.SynthError(f"{len(skipped)} unreadable input(s) and --strict is set: fix or remove them")
    if not valid:
        raise synth.SynthError("none of the inputs is a readable image")
    if args.depth is not None:
        missing = [ref.stem for ref in valid if synth.depth_priors.find_depth_file(args.depth, ref.stem) is None]
        for stem in missing[:5]:
            _say(f"no depth map for {stem} in {args.depth}; its fog uses the next depth source")
        if len(missing) > 5:
            _say(f"... and {len(missing) - 5} more photos without a depth map")
    return valid, skipped


def make_job(args: argparse.Namespace, valid: list, config, captions: dict[str, str]):
    from rnr import synth

    return synth.Job(
        output=args.output,
        inputs=tuple(valid),
        num=args.num,
        seed=args.seed,
        size=args.size,
        fit=args.fit,
        format=args.format,
        config=config,
        depth_dir=args.depth,
        depth_kind=args.depth_kind,
        depth_model=args.depth_model,
        captions=tuple(sorted(captions.items())),
        captioner=args.captioner,
        stages=args.stages,
        shard=_parse_shard(args.shard),
    )


def write_dataset(args: argparse.Namespace, job, skipped: list[str]):
    """Make the samples not yet on disk, then assemble them; (the job with its scenes, samples made, seconds)."""
    from tqdm import tqdm

    from rnr import synth

    total = job.stop - job.start
    Path(args.output).mkdir(parents=True, exist_ok=True)
    synth.write_manifest(job, complete=False, skipped=skipped)
    if job.captioner is not None:
        with tqdm(total=total, desc="captioning", unit="img", disable=args.quiet) as bar:
            scenes = synth.caption_samples(job, args.caption_batch, bar.update)
        job = replace(job, scenes=tuple(sorted(scenes.items())))
    done = sum(end - first for chunk_id, first, end in job.chunks() if chunk_id in synth.done_chunks(job))
    if done:
        _say(f"resuming: {done} of {total} samples already written")
    started = time.perf_counter()
    with tqdm(total=total, initial=done, desc=PROG, unit="sample", disable=args.quiet) as bar:
        made = synth.run_chunks(job, args.workers, bar.update)
    synth.finalize(job)
    elapsed = time.perf_counter() - started
    synth.write_manifest(job, complete=True, skipped=skipped, extra={"seconds": round(elapsed, 3)})
    return job, made, elapsed


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from reasoner.qwen import ReasonerLoadError
    from rnr.config import ConfigError
    from rnr.imageio import ImageReadError, pil_pixel_limit_lifted
    from rnr.synth import SynthError

    try:
        with pil_pixel_limit_lifted():  # --max-pixels decides, in a message that names the photo
            return run(args)
    except (SynthError, ConfigError, ImageReadError, ReasonerLoadError) as error:
        _say(f"error: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
