"""Real-width Qwen models on a CPU: time and peak memory of each stage per layer, extrapolated to full depth.

    python benchmarks/bench_real_width.py [--size 512] [--layers 1 2] [--stages ...] [--json FILE]

Builds randomly initialised Qwen3-VL (the reasoner, default 2B; the GRPO judge, default 4B as
configs/grpo/qwen-image-edit.yaml names) and Qwen-Image-Edit at their published width
(benchmarks/real_width_models.py) with `--layers` decoder layers: the reasoner's text tower,
and both the MMDiT and the text encoder's text tower (the vision towers and the VAE are
always whole). Then, each stage in its own process so that its peak is its own:

- reasoner-sft: LoRA SFT steps (configs/reasoner/<reasoner>.yaml, bf16, checkpointing; batch 1)
- diagnose: `QwenReasoner.diagnose` of one image (`--max-new-tokens`; a random model never stops)
- restorer-sft: caching with the full-width text encoder and the real VAE, then LoRA steps
  (configs/restorer/qwen-image-edit.yaml, bf16 autocast over bf16 weights, checkpointing)
- restore: `QwenEditRestorer.restore`, 2 steps, guidance 4 (true CFG: 2 transformer calls a step)
- grpo: one GRPO step, a group of 2, 2 denoising steps (configs/grpo/qwen-image-edit.yaml)

Per phase it keeps seconds and the peak resident set (VmHWM). With two depths it fits
``cost(n) = a + b·n`` per phase and extrapolates to the published depth (60 MMDiT blocks,
28 text-encoder layers, 28/36 reasoner layers): time from the phase's own slope; memory as
the measured peak plus the exact bytes of the missing layers of every model resident in that
phase (counted from the built modules) plus the activation growth per layer beyond those weights.
Label every number "real-width random model, N layers" with the machine and the date.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import real_width_models as models

STAGES = ("reasoner-sft", "diagnose", "restorer-sft", "restore", "grpo")
PRESETS = {
    "restorer": models.ROOT / "configs/restorer/qwen-image-edit.yaml",
    "grpo": models.ROOT / "configs/grpo/qwen-image-edit.yaml",
}
# The models in memory during each stage's phases, whose missing layers' weights count towards its peak.
RESIDENT = {
    "reasoner-sft": ["reasoner"],
    "diagnose": ["reasoner"],
    "restorer-sft": ["text_encoder", "transformer"],
    "restore": ["text_encoder", "transformer"],
    "grpo": ["judge", "text_encoder", "transformer"],
}
FREED = {("restorer-sft", "lora steps"): ["text_encoder"]}  # the stage drops the text encoder before training
# CPU seconds (all threads) rather than wall time: on a shared machine the wall clock measures the neighbours.
TIME = "cpu_seconds"
# Which model's depth a phase's cost grows with (None: fixed, e.g. the VAE).
GOVERNS = {"sft steps": "reasoner", "generate": "reasoner", "judge": "judge", "text encoder": "text_encoder",
           "transformer": "transformer", "lora steps": "transformer", "backward": "transformer"}


def build(workdir: Path, layers: int, reasoner: str, judge: str, dtype: str = "bfloat16") -> dict[str, Any]:
    """Save the three models at `layers` layers; returns their folders and per-layer weight bytes (in `dtype`).

    The checkpoints are written in bf16 whatever `dtype` (each stage loads them in `dtype`): the float32
    set of one layer filled 25 GB of disk (bf16: 6.2 GB), and CI's machine once ran out. A judge of the same size
    as the reasoner is the reasoner's folder (one random model serves both roles)."""
    import torch

    folders = {"reasoner": workdir / f"{reasoner}-{layers}", "judge": workdir / f"{judge}-judge-{layers}",
               "pipeline": workdir / f"qwen-image-edit-{layers}"}
    splits: dict[str, Any] = {}
    for role, name in (("reasoner", reasoner), ("judge", judge)):
        if role == "judge" and judge == reasoner:
            folders["judge"], splits["judge"] = folders["reasoner"], splits["reasoner"]
            continue
        model, processor = models.qwen3_vl(name, text_layers=layers, dtype=dtype)
        splits[role] = {**models.weight_split(model, "reasoner"), "full_layers": models.full_depth("reasoner", name)}
        model.to(torch.bfloat16).save_pretrained(folders[role])
        processor.save_pretrained(folders[role])
        del model
    pipeline = models.qwen_image_edit(transformer_layers=layers, text_layers=layers, dtype=dtype)
    for role in ("text_encoder", "transformer"):
        splits[role] = {**models.weight_split(getattr(pipeline, role), role), "full_layers": models.full_depth(role)}
    pipeline.to(torch.bfloat16).save_pretrained(folders["pipeline"])
    return {"folders": {k: str(v) for k, v in folders.items()}, "splits": splits}


def run_stage(stage: str, built: dict[str, Any], data: Path, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One stage in this process (a child of `main`); returns its result and the meter's phases."""
    import numpy as np

    import real_width_stages as stages

    meter = stages.Meter("cpu")
    folders = built["folders"]
    output = workdir / f"out-{stage}-{built['layers']}"
    steps = {"max_steps": args.steps}
    bf16 = args.dtype == "bfloat16"  # float32: the presets' bf16 is switched off with the weights'
    if stage == "reasoner-sft":
        preset = models.ROOT / f"configs/reasoner/{args.reasoner}.yaml"
        result = stages.reasoner_sft(meter, folders["reasoner"], data, output, str(preset), batch_size=1, gradient_accumulation=1,
                                     bf16=bf16, **steps)
    elif stage == "diagnose":
        from datasets import load_from_disk

        image = np.asarray(load_from_disk(str(data))[0]["degraded"].convert("RGB"))
        result = stages.diagnose(meter, folders["reasoner"], [image], "cpu", args.max_new_tokens, batch_size=1, dtype=args.dtype)
    else:
        from restorer.qwen import QwenEditRestorer

        with meter.phase("load"):
            pipeline = QwenEditRestorer.from_pretrained(folders["pipeline"], device="cpu", dtype=args.dtype).pipeline
        stages.instrument(meter, pipeline)
        pixels = args.size * args.size
        if stage == "restorer-sft":
            result = stages.restorer_sft(meter, pipeline, data, output, str(PRESETS["restorer"]), batch_size=1,
                                         gradient_accumulation=1, max_pixels=pixels, mixed_precision="bf16" if bf16 else "no", **steps)
        elif stage == "restore":
            from datasets import load_from_disk

            image = np.asarray(load_from_disk(str(data))[0]["degraded"].convert("RGB"), np.float32) / 255
            result = stages.restore(meter, pipeline, [image], max_pixels=pixels, steps=2, guidance=4.0)
        else:
            result = stages.grpo_steps(meter, pipeline, folders["judge"], data, output, str(PRESETS["grpo"]), "cpu",
                                       num_generations=2, denoising_steps=2, max_pixels=pixels,
                                       judge_max_new_tokens=args.max_new_tokens, judge_dtype=args.dtype, **steps)
    return {"stage": stage, "layers": built["layers"], "result": result, "phases": meter.report()}


# --- extrapolation -----------------------------------------------------------------------
def leaves(phases: dict[str, dict[str, Any]], key: str = TIME) -> dict[str, float]:
    """Seconds per leaf phase; a phase with inner phases keeps its own remainder as '<name> (rest)'."""
    out = {}
    for name, entry in phases.items():
        if name.startswith("load"):
            continue
        inner = sum(e[key] for e in phases.values() if e.get("parent") == name)
        out[name if not inner else f"{name} (rest)"] = max(entry[key] - inner, 0.0)
    return out


def extrapolate(stage: str, runs: dict[int, dict[str, Any]], splits: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Full-depth time and peak from the runs at two depths (see the module docstring)."""
    (n1, r1), (n2, r2) = sorted(runs.items())[:2]
    depth = {role: s["full_layers"] for role, s in splits[n1].items()}
    t1, t2 = leaves(r1["phases"]), leaves(r2["phases"])
    seconds, per_layer_s = 0.0, {}
    for name, value in t1.items():
        role = GOVERNS.get(name)
        slope = max((t2.get(name, value) - value) / (n2 - n1), 0.0) if role else 0.0
        per_layer_s[name] = slope
        seconds += value + (depth[role] - n1) * slope if role else value
    peak, per_layer_bytes = 0, {}
    for name, entry in r1["phases"].items():
        if name == "load" or name.startswith("load "):
            continue  # loading holds a file's pages too; the stage's work is what is compared
        resident = [s for s in RESIDENT[stage] if s not in FREED.get((stage, name), [])]
        weights = sum(splits[n1][s]["layer_bytes"] for s in resident)
        grown = (r2["phases"][name]["peak_bytes"] - entry["peak_bytes"]) / (n2 - n1)
        activations = max(grown - weights, 0.0)
        role = GOVERNS.get(name)
        full = entry["peak_bytes"] + sum((depth[s] - n1) * splits[n1][s]["layer_bytes"] for s in resident)
        full += (depth[role] - n1) * activations if role else 0.0
        per_layer_bytes[name] = grown
        peak = max(peak, full)
    return {"seconds": seconds, "peak_bytes": peak, "per_layer_seconds": per_layer_s, "per_layer_peak_bytes": per_layer_bytes}


def table(results: list[dict[str, Any]], extrapolated: dict[str, Any], args: argparse.Namespace) -> str:
    gib = 1024**3
    layers = sorted({r["layers"] for r in results})
    head = " | ".join(f"{n} layer{'s' if n > 1 else ''}: s / peak GiB" for n in layers)
    lines = [f"\n## Real-width random models on this CPU, {args.size}x{args.size} ({args.reasoner} reasoner, {args.judge} judge, {args.dtype})\n",
             "CPU seconds (both threads) and peak resident memory of each stage's work (loading left out).\n",
             f"| stage | {head} | full depth (extrapolated): CPU s / peak GiB |", "|---|" + "---:|" * (len(layers) + 1)]
    for stage in args.stages:
        cells = []
        for n in layers:
            run = next(r for r in results if r["stage"] == stage and r["layers"] == n)
            work = {k: v for k, v in run["phases"].items() if not k.startswith("load")}
            top = sum(v[TIME] for v in work.values() if v.get("parent") is None)
            cells.append(f"{top:.1f} / {max(v['peak_bytes'] for v in work.values()) / gib:.2f}")
        full = extrapolated.get(stage)
        cells.append(f"{full['seconds']:.0f} / {full['peak_bytes'] / gib:.1f}" if full else "-")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def child(command: list[str]) -> dict[str, Any]:
    """Run this script as a child and read its RESULT line."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    finished = subprocess.run([sys.executable, __file__, *command], capture_output=True, text=True, env=env)
    lines = [line for line in finished.stdout.splitlines() if line.startswith("RESULT ")]
    if finished.returncode != 0 or not lines:
        raise SystemExit(f"bench_real_width: {' '.join(command[:2])} failed (exit {finished.returncode}):\n{finished.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="side of the training and test images (default 512)")
    parser.add_argument("--layers", type=int, nargs="+", default=[1, 2], help="decoder depths to measure (two to extrapolate)")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--reasoner", default="qwen3-vl-2b", choices=sorted(models.QWEN3_VL))
    parser.add_argument("--judge", default="qwen3-vl-4b", choices=sorted(models.QWEN3_VL))
    parser.add_argument("--steps", type=int, default=1, help="optimizer steps per training stage (default 1)")
    parser.add_argument("--max-new-tokens", type=int, default=32, help="tokens a diagnosis may generate (default 32)")
    parser.add_argument("--workdir", type=Path, help="where models and sets go (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="write every measurement here")
    parser.add_argument("--dtype", default="bfloat16", choices=("bfloat16", "float32"),
                        help="weights and autocast (default bfloat16, as the stages run on a GPU); float32 on a CPU "
                             "without AVX-512 BF16, where bf16 is ~12x slower")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--built", type=Path, help=argparse.SUPPRESS)
    return parser


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import real_width_stages as stages

    stages.synth_set(workdir, args.size, 2)  # the children read it from the workdir
    results, splits = [], {}
    for layers in args.layers:
        started = time.perf_counter()
        built = child(["--child", "build", "--layers", str(layers), "--workdir", str(workdir), "--reasoner", args.reasoner,
                       "--judge", args.judge, "--dtype", args.dtype])
        built["layers"] = layers
        splits[layers] = built["splits"]
        (workdir / f"built-{layers}.json").write_text(json.dumps(built))
        print(f"built {layers}-layer models in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for stage in args.stages:
            common = ["--built", str(workdir / f"built-{layers}.json"), "--workdir", str(workdir), "--size", str(args.size),
                      "--steps", str(args.steps), "--max-new-tokens", str(args.max_new_tokens), "--reasoner", args.reasoner,
                      "--dtype", args.dtype]
            results.append(child(["--child", stage, *common]))
            print(f"{stage}, {layers} layer(s): done", file=sys.stderr)
            if args.json:  # so far: a long run that is stopped keeps what it measured
                args.json.write_text(json.dumps({"size": args.size, "splits": splits, "runs": results}, indent=1))
    extrapolated = {}
    if len(args.layers) >= 2:
        extrapolated = {s: extrapolate(s, {r["layers"]: r for r in results if r["stage"] == s}, splits) for s in args.stages}
    return {"size": args.size, "dtype": args.dtype, "reasoner": args.reasoner, "judge": args.judge, "splits": splits, "runs": results,
            "extrapolated": extrapolated}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.child == "build":
        print("RESULT " + json.dumps(build(args.workdir, args.layers[0], args.reasoner, args.judge, args.dtype)))
        return 0
    if args.child:
        built = json.loads(args.built.read_text())
        data = args.workdir / f"synth-{args.size}"
        print("RESULT " + json.dumps(run_stage(args.child, built, data, args.workdir, args)))
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        report = measure(args, args.workdir or Path(scratch))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    print(table(report["runs"], report["extrapolated"], args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
