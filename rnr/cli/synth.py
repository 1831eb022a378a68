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


def options_from_args(args: argparse.Namespace):
    """The engine's options, from the parsed command line (the config file and overrides loaded)."""
    from degradations.compose import SynthConfig
    from rnr.config import load_config
    from rnr.synth import SynthOptions

    return SynthOptions(
        output=args.output,
        inputs=tuple(args.input or ()),
        num=args.num,
        seed=args.seed,
        size=args.size,
        fit=args.fit,
        format=args.format,
        workers=args.workers,
        config=SynthConfig() if args.merge else load_config(SynthConfig, args.config, args.overrides),
        depth_dir=args.depth,
        depth_kind=args.depth_kind,
        depth_model=args.depth_model,
        captions=args.captions,
        captioner=args.captioner,
        caption_batch=args.caption_batch,
        shard=_parse_shard(args.shard),
        stages=args.stages,
        strict=args.strict,
        max_pixels=args.max_pixels,
        preview=args.preview,
        quiet=args.quiet,
        merge=tuple(args.merge or ()),
    )


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from rnr.synth import synthesize

    try:
        result = synthesize(options_from_args(args), say=_say)
    except KeyboardInterrupt:
        _say("interrupted; run the same command again to resume")
        return 130
    if result.state == "merged":
        print(f"{PROG}: merged {len(args.merge)} shards, {result.samples} samples, into {args.output}")
    elif result.state == "complete":
        print(f"{PROG}: {args.output} already holds this dataset, complete; nothing to do")
    elif result.made:
        rate = result.made / result.seconds if result.seconds > 0 else float("inf")
        skipped = len(result.skipped)
        note = f"; skipped {skipped} input(s), listed in {Path(args.output) / 'skipped.txt'}" if skipped else ""
        print(f"{PROG}: wrote {result.samples} samples to {args.output} ({args.format}) in {result.seconds:.1f} s, {rate:.1f} samples/s{note}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from reasoner.qwen import ReasonerLoadError
    from rnr.config import ConfigError
    from rnr.imageio import ImageReadError
    from rnr.synth import SynthError

    try:
        return run(args)
    except (SynthError, ConfigError, ImageReadError, ReasonerLoadError) as error:
        _say(f"error: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
