"""The shake prior with the diagnosis's line kernel against the kernel estimated from the photo, on a validation set.

    python benchmarks/val_kernel.py data/shake-val512 [--diagnosis true|lite] [--balances 0.05 0.02]

For every sample whose diagnosis calls shake it prints the mean PSNR gain over the input,
the median, and how many end worse than their input by more than 1 dB, for: the Wiener prior
alone (denoised first where noise is diagnosed) with the line kernel, with the true kernel
(the record's; no diagnosis carries it), with the estimated kernel at each balance
(`restorer.priors.ESTIMATED_BALANCE`); and the lite restorer (the weights given, default the
shipped ones) with the line kernel and with the estimated one. Validation photos only:
`rnr-synth --input data/corpus/val --output data/shake-val512 --num 40 --size 512 --seed 5151
--no-stages p_fog=0 p_rain=0 p_noise=0 p_shake=1 clean_share=0` (restorer/kernels.py's numbers).
"""

import argparse
import json
import time

import numpy as np
import torch
from datasets import load_from_disk

import restorer.priors as priors
from reasoner.lite import LiteReasoner
from restorer.lite import LiteRestorer, photo_kernel
from rnr.diagnosis import Diagnosis
from rnr.metrics import psnr


def as_tensor(image: np.ndarray):
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]


def as_image(tensor) -> np.ndarray:
    return tensor[0].permute(1, 2, 0).numpy()


def sample_scores(row, diagnosis, restorer, balances: list[float]) -> dict | None:
    """The sample's PSNR by method, or None when its diagnosis leaves nothing to deconvolve."""
    degraded = np.asarray(row["degraded"].convert("RGB"), np.float32) / 255
    clean = np.asarray(row["clean"].convert("RGB"), np.float32) / 255
    condition = restorer.condition_for(degraded, diagnosis)
    if priors.shake_sizes(condition)[0] is None:
        return None
    x = as_tensor(degraded)
    started = time.perf_counter()
    kernel = photo_kernel(degraded, condition)
    scores = {"input": psnr(degraded, clean), "estimate seconds": time.perf_counter() - started}
    denoised = priors.nlm_denoise(x, condition)
    with torch.no_grad():
        scores["prior, line kernel"] = psnr(as_image(priors.wiener_deblur(denoised, condition)), clean)
        if row.get("shake_kernel"):
            true = torch.tensor(row["shake_kernel"], dtype=torch.float32)[None]
            scores["prior, true kernel"] = psnr(as_image(priors.wiener_deblur(denoised, condition, estimated=true)), clean)
        for balance in balances:
            priors.ESTIMATED_BALANCE = balance  # the module's setting, read at each call
            scores[f"prior, estimated, balance {balance}"] = psnr(as_image(priors.wiener_deblur(denoised, condition, estimated=kernel)), clean)
        priors.ESTIMATED_BALANCE = balances[0]
        scores["lite, line kernel"] = psnr(as_image(restorer.forward(x, condition)), clean)
        scores["lite, estimated kernel"] = psnr(as_image(restorer.forward(x, condition, photo_kernels=kernel)), clean)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="an rnr-synth set (hf format) of validation photos")
    parser.add_argument("--diagnosis", choices=("true", "lite"), default="true", help="the record's diagnosis, or the lite reasoner's")
    parser.add_argument("--balances", type=float, nargs="+", default=[priors.ESTIMATED_BALANCE], help="ESTIMATED_BALANCE values, the first used by the restorer")
    parser.add_argument("--restorer", default=None, help="lite restorer weights (default: the shipped ones)")
    args = parser.parse_args()
    data = load_from_disk(args.data)
    reasoner, restorer = (LiteReasoner.load() if args.diagnosis == "lite" else None), LiteRestorer.load(args.restorer)
    rows = []
    for row in data:
        if args.diagnosis == "lite":
            diagnosis = reasoner.diagnose([np.asarray(row["degraded"].convert("RGB"))])[0]
        else:
            diagnosis = Diagnosis.from_record(json.loads(row["record"]))
        scores = sample_scores(row, diagnosis, restorer, args.balances)
        if scores is not None:
            rows.append(scores)
    print(f"{len(rows)} of {len(data)} samples called shaken ({args.diagnosis} diagnosis; restorer {restorer.name})\n")
    print("| method | mean gain (dB) | median | worse than input by > 1 dB |")
    print("|---|---:|---:|---:|")
    for method in [key for key in rows[0] if key not in ("input", "estimate seconds")]:
        gains = np.array([r[method] - r["input"] for r in rows if method in r])
        print(f"| {method} | {gains.mean():+.2f} | {np.median(gains):+.2f} | {int((gains < -1).sum())} |")
    print(f"\nKernel estimate: {np.mean([r['estimate seconds'] for r in rows]):.3f} s a photo (mean)")


if __name__ == "__main__":
    main()
