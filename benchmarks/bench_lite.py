"""Quality and speed of the lite reasoner and restorer on a held-out test set.

    python benchmarks/test_photos.py data/test-photos
    rnr-synth --input data/test-photos --output data/lite-test --num 100 --size 256 --seed 999 \\
        --workers 1 --config configs/lite/synth.yaml
    python benchmarks/bench_lite.py data/lite-test [--reasoner W] [--restorer W] [--sft W] [--json FILE]

Prints Markdown tables: reasoner presence F1 and severity MAE; restoration PSNR/SSIM of
the degraded input, of the restorer (default: the shipped GRPO one) given the lite
reasoner's diagnosis, given no diagnosis, and of the SFT restorer before GRPO; residual severity (the lite reasoner's scores of
the outputs); clean inputs; and the time to diagnose and restore a 512x512 photo.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np


def main() -> None:
    import torch
    from datasets import load_from_disk

    from reasoner.accuracy import accuracy_report
    from reasoner.lite import LiteReasoner
    from restorer.lite import LiteRestorer
    from rnr.diagnosis import Diagnosis
    from rnr.metrics import psnr, ssim

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--reasoner", default=None, help="lite reasoner weights (default: shipped)")
    parser.add_argument("--restorer", default=None, help="lite restorer weights (default: shipped)")
    parser.add_argument("--sft", default="rnr/weights/lite-restorer-sft.safetensors", help="the restorer before GRPO")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(2)
    dataset = load_from_disk(args.data)
    if args.limit:
        dataset = dataset.select(range(min(args.limit, len(dataset))))
    records = [json.loads(r) for r in dataset["record"]]
    clean = [np.asarray(im.convert("RGB"), np.float32) / 255 for im in dataset["clean"]]
    degraded = [np.asarray(im.convert("RGB"), np.float32) / 255 for im in dataset["degraded"]]
    truth = [Diagnosis.from_record(r) for r in records]
    reasoner = LiteReasoner.load(args.reasoner)
    started = time.perf_counter()
    diagnoses = reasoner.diagnose(degraded)
    seconds = time.perf_counter() - started
    report = accuracy_report(diagnoses, truth, 0, seconds)

    full = "full: GRPO restorer, lite diagnosis"
    restorers = {full: (LiteRestorer.load(args.restorer), diagnoses)}
    default = restorers[full][0]
    restorers["w/o reasoner (empty diagnosis)"] = (default, [None] * len(degraded))
    restorers["SFT only (before GRPO), lite diagnosis"] = (LiteRestorer.load(args.sft), diagnoses)
    rows = {"degraded input": degraded}
    for name, (restorer, given) in restorers.items():
        rows[name] = restorer.restore(degraded, given)
    degraded_only = [i for i, r in enumerate(records) if not r["clean"]]
    results = {"samples": len(records), "degraded_samples": len(degraded_only), "reasoner": report, "restoration": {}}
    print(f"\n## Lite reasoner on {args.data} ({len(records)} samples)\n")
    print("| degradation | precision | recall | F1 | severity MAE |")
    print("|---|---:|---:|---:|---:|")
    for name, s in report["presence"].items():
        print(f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {report['severity_mae'][name]:.2f} |")
    print(f"\n## Lite restorer on the {len(degraded_only)} degraded samples\n")
    print("| method | PSNR (dB) | SSIM | residual severity (sum of 4, lite reasoner) |")
    print("|---|---:|---:|---:|")
    for name, outputs in rows.items():
        subset = [outputs[i] for i in degraded_only]
        value = {
            "psnr": statistics.mean(psnr(subset[k], clean[i]) for k, i in enumerate(degraded_only)),
            "ssim": statistics.mean(ssim(subset[k], clean[i]) for k, i in enumerate(degraded_only)),
            "residual_severity": float(np.mean([sum(d.severities()) for d in reasoner.diagnose(subset)])),
        }
        results["restoration"][name] = value
        print(f"| {name} | {value['psnr']:.2f} | {value['ssim']:.4f} | {value['residual_severity']:.1f} |")
    clean_only = [i for i, r in enumerate(records) if r["clean"]]
    if clean_only:
        restored = rows[full]
        fidelity = [psnr(restored[i], degraded[i]) for i in clean_only]
        said_clean = sum(diagnoses[i].is_clean for i in clean_only) / len(clean_only)
        results["clean"] = {"count": len(clean_only), "min_psnr": min(fidelity), "said_clean": said_clean}
        print(f"\nClean inputs ({len(clean_only)}): output vs input PSNR min {min(fidelity):.1f} dB; diagnosed clean {said_clean:.0%}")
    from skimage import data as skdata

    photo = skdata.astronaut().astype(np.float32) / 255
    restorer = default
    times = []
    for _ in range(5):
        start = time.perf_counter()
        restorer.restore([photo], reasoner.diagnose([photo]))
        times.append(time.perf_counter() - start)
    results["seconds_512"] = statistics.median(times)
    print(f"\nDiagnose + restore one 512x512 photo: {statistics.median(times):.3f} s (median of 5, 2 threads)")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2, default=float)


if __name__ == "__main__":
    sys.exit(main())
