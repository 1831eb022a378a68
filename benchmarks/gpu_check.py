"""GPU acceptance run: full-size random Qwen models through every stage with the shipped presets.

    python3 benchmarks/gpu_check.py [--json FILE] [--workdir DIR]   # one CUDA GPU (an H200: about 6 minutes, estimated)
    python3 benchmarks/gpu_check.py --tiny [--json FILE]             # the same run with tiny models, any device

On one GPU, with randomly initialised models at the published configs (Qwen3-VL-8B as the
reasoner and the GRPO judge; Qwen-Image-Edit whole, bf16; benchmarks/real_width_models.py):

1. reasoner SFT, `max_steps` 2 of configs/reasoner/qwen3-vl-8b.yaml (batch 1 x accumulation 16);
2. diagnosis of 16 photos at 1024² (batch 8, `--diagnosis-tokens` each: a random model never stops);
3. restore one photo at 1024² with `QwenEditRestorer`'s defaults (30 steps, true CFG at guidance 4);
4. GRPO, `max_steps` 2 of configs/grpo/qwen-image-edit.yaml (a group of 4, 10 denoising steps);
5. restorer LoRA SFT, `max_steps` 2 of configs/restorer/qwen-image-edit.yaml (accumulation 4), on a
   freshly built pipeline (stage 2 frees the text encoder and VAE, as training does).

It prints the versions first (and stops if a package is missing), then per stage the wall time,
s/step or images/s, and the peak GPU memory (the CUDA allocator's); an out-of-memory error
stops it with the stage named. The device machine lacks diffusers, trl, datasets and
qwen-vl-utils: carry them as wheels (docs/BENCHMARKS.md, "GPU acceptance run").
`--tiny` runs the same code with the tests' tiny models and small images (a test does).
"""

from __future__ import annotations

import argparse
import configparser
import json
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import real_width_models as models

REQUIRED = ("torch", "transformers", "diffusers", "trl", "peft", "accelerate", "datasets", "qwen-vl-utils")
PRESETS = {
    "reasoner": models.ROOT / "configs/reasoner/qwen3-vl-8b.yaml",
    "restorer": models.ROOT / "configs/restorer/qwen-image-edit.yaml",
    "grpo": models.ROOT / "configs/grpo/qwen-image-edit.yaml",
}
BUDGET_S = 8 * 60
# --tiny: what changes so that the run takes seconds; everything else is the full run's.
TINY = {"size": 64, "infer_size": 64, "photos": 4, "restore_steps": 2, "diagnosis_tokens": 16,
        "grpo": {"num_generations": 2, "denoising_steps": 2, "judge_max_new_tokens": 16}}


class StageFailed(SystemExit):
    """A stage that ran out of memory (or broke): the message names it."""


def pins() -> dict[str, str]:
    """The versions setup.cfg pins (its train extra), by distribution name."""
    parser = configparser.ConfigParser()
    parser.read(models.ROOT / "setup.cfg")
    found = {}
    for line in parser["options.extras_require"]["train"].splitlines():
        if "==" in line:
            name, version = line.strip().split("==")
            found[name.lower()] = version
    return found


def check_versions() -> dict[str, str]:
    """Print what is installed against the pins; stop when a required package is missing."""
    expected, versions, missing = pins(), {}, []
    for name in REQUIRED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        pin = expected.get(name)
        note = "" if pin is None or versions[name].split("+")[0] == pin else f"  (setup.cfg pins {pin})"
        print(f"{name:14s} {versions[name]}{note}")
    if missing:
        raise SystemExit(f"gpu_check: missing {', '.join(missing)}: carry their wheels (docs/BENCHMARKS.md, 'GPU acceptance run')")
    return versions


class Run:
    """Stages in order: wall time, the stage's result and its peak memory; OOM stops the run naming the stage."""

    def __init__(self, device: str) -> None:
        import real_width_stages as stages

        self.device, self.started, self.stages = device, time.perf_counter(), {}
        self.cuda = device.startswith("cuda")
        self.meter_class = stages.Meter

    def stage(self, name: str, work, *args, **kwargs) -> dict[str, Any]:
        import torch

        meter = self.meter_class(self.device)
        started = time.perf_counter()
        try:
            with meter.phase(name):
                result = work(meter, *args, **kwargs)
        except torch.OutOfMemoryError as error:
            free = torch.cuda.mem_get_info()[0] if self.cuda else 0
            raise StageFailed(
                f"gpu_check: out of GPU memory in stage {name!r} after {time.perf_counter() - started:.0f} s "
                f"(peak {meter.peak() / 2**30:.1f} GiB, {free / 2**30:.1f} GiB free): {str(error).splitlines()[0]}"
            ) from None
        entry = {"wall_s": time.perf_counter() - started, "peak_gib": meter.phases[name]["peak_bytes"] / 2**30,
                 "result": result or {}, "phases": meter.report()}
        self.stages[name] = entry
        print(f"[{time.perf_counter() - self.started:6.0f} s] {name}: {entry['wall_s']:.1f} s, peak {entry['peak_gib']:.1f} GiB, {result}",
              flush=True)
        return entry

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def photos(data: Path, count: int, side: int) -> list:
    """`count` degraded photos of the set, resized to side² (float RGB in [0, 1])."""
    import cv2
    import numpy as np
    from datasets import load_from_disk

    rows = load_from_disk(str(data))
    images = [np.asarray(rows[i % len(rows)]["degraded"].convert("RGB"), np.float32) / 255 for i in range(count)]
    return [cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC) for image in images]


def reasoner_folder(workdir: Path, tiny: bool, device: str) -> Path:
    """The reasoner saved like a hub folder: SFT and `QwenReasoner` load one (17.5 GB for the 8B)."""
    folder = workdir / "reasoner"
    if tiny:
        from tiny_models import save_tiny_qwen3_vl

        return save_tiny_qwen3_vl(folder)
    return models.save_qwen3_vl(folder, "qwen3-vl-8b", device=device)


def pipeline(tiny: bool, device: str):
    if tiny:
        from tiny_models import tiny_qwen_image_edit

        return tiny_qwen_image_edit().to(device)
    return models.qwen_image_edit(device=device)


def run_all(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import real_width_stages as stages

    device = "cuda" if __import__("torch").cuda.is_available() else "cpu"
    if not args.tiny and device != "cuda":
        raise SystemExit("gpu_check: no CUDA GPU here; use --tiny for the CPU rehearsal")
    tiny = TINY if args.tiny else {}
    size, infer = tiny.get("size", args.size), tiny.get("infer_size", args.infer_size)
    count = tiny.get("photos", 16)
    run = Run(device)
    data = stages.synth_set(workdir, size, count)
    folder = run.stage("build reasoner", lambda meter: {"folder": str(reasoner_folder(workdir, args.tiny, device))})["result"]["folder"]
    run.stage("reasoner SFT", stages.reasoner_sft, folder, data, workdir / "sft-reasoner", str(PRESETS["reasoner"]), max_steps=2)
    stages.free()
    tokens = tiny.get("diagnosis_tokens", args.diagnosis_tokens)
    run.stage("diagnosis", stages.diagnose, folder, photos(data, count, infer), device, tokens, batch_size=8)
    stages.free()
    built = {}
    run.stage("build pipeline", lambda meter: built.setdefault("pipeline", pipeline(args.tiny, device)) and {})
    steps = {"steps": tiny["restore_steps"]} if tiny else {}  # else QwenEditRestorer's defaults
    run.stage("restore", stages.restore, built["pipeline"], photos(data, 1, infer), max_pixels=infer * infer, **steps)
    run.stage("GRPO", stages.grpo_steps, built["pipeline"], folder, data, workdir / "grpo", str(PRESETS["grpo"]), device,
              max_steps=2, **tiny.get("grpo", {}))
    built.clear()
    stages.free()
    run.stage("build pipeline again", lambda meter: built.setdefault("pipeline", pipeline(args.tiny, device)) and {})
    run.stage("restorer SFT", stages.restorer_sft, built["pipeline"], data, workdir / "sft-restorer", str(PRESETS["restorer"]),
              max_steps=2, max_pixels=size * size)
    return {"device": device_name(device), "tiny": args.tiny, "size": size, "infer_size": infer, "seconds": run.elapsed(),
            "stages": run.stages}


def device_name(device: str) -> str:
    import torch

    if not device.startswith("cuda"):
        return "cpu"
    properties = torch.cuda.get_device_properties(0)
    return f"{properties.name}, {properties.total_memory / 2**30:.0f} GiB"


def summary(report: dict[str, Any]) -> str:
    """The table for docs/BENCHMARKS.md."""
    rates = {"reasoner SFT": ("s/step", lambda r, s: s["phases"]["sft steps"]["seconds"] / r["steps"]),
             "diagnosis": ("images/s", lambda r, s: r["images_per_s"]),
             "restore": ("s/image", lambda r, s: r["s_per_image"]),
             "GRPO": ("s/step", lambda r, s: (s["phases"]["rollout"]["seconds"] + s["phases"]["backward"]["seconds"]) / r["steps"]),
             "restorer SFT": ("s/step", lambda r, s: s["phases"]["lora steps"]["seconds"] / r["steps"])}
    lines = [f"\n## gpu_check on {report['device']}{' (--tiny)' if report['tiny'] else ''}: {report['seconds']:.0f} s in all\n",
             "| stage | wall s | rate | peak GPU memory (GiB) |", "|---|---:|---:|---:|"]
    for name, stage in report["stages"].items():
        unit, rate = rates.get(name, ("", None))
        cell = f"{rate(stage['result'], stage):.2f} {unit}" if rate else ""
        lines.append(f"| {name} | {stage['wall_s']:.1f} | {cell} | {stage['peak_gib']:.1f} |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny models and images: the rehearsal a CPU can run")
    parser.add_argument("--size", type=int, default=512, help="training images' side (default 512, the presets' max_pixels)")
    parser.add_argument("--infer-size", type=int, default=1024, help="diagnosis and restore images' side (default 1024)")
    parser.add_argument("--diagnosis-tokens", type=int, default=256, help="tokens per diagnosis (default 256)")
    parser.add_argument("--workdir", type=Path, help="where the reasoner and the sets go (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="write every measurement here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    versions = check_versions()
    with tempfile.TemporaryDirectory() as scratch:
        report = run_all(args, args.workdir or Path(scratch))
    report["versions"] = versions
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    print(summary(report))
    if report["seconds"] > BUDGET_S and not args.tiny:
        print(f"gpu_check: took {report['seconds']:.0f} s, over the {BUDGET_S} s budget", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
