"""The lite restorer's NLM search window, compared on a validation set: PSNR with the lite reasoner's diagnosis.

    python benchmarks/val_nlm_search.py data/nlm-val512 [--windows 11 7 9]

Only samples the reasoner calls noisy are restored (the window changes nothing elsewhere);
for each window it prints the mean gain over the input, the mean and worst change against the
first window, the mean SSIM gain, how many samples end worse than their input by more than 1 dB
and the time of a restore (7 against 11 kept PSNR and lost 0.008 SSIM on both sets, so 11 stays).
Validation photos only (the sets of restorer/priors.py's NLM_SEARCH note:
`rnr-synth --input data/corpus/val --output data/nlm-val512 --num 120 --size 512 --seed 9191
--no-stages --config configs/synth/default.yaml`, and seed 9292).
"""

import argparse
import time

import numpy as np
from datasets import load_from_disk

import restorer.priors as priors
from reasoner.lite import LiteReasoner
from restorer.lite import LiteRestorer
from rnr.metrics import psnr, ssim


def measure(data, windows: list[int]) -> list[dict]:
    reasoner, restorer = LiteReasoner.load(), LiteRestorer.load()
    rows = []
    for row in data:
        degraded = np.asarray(row["degraded"].convert("RGB"), np.float32) / 255
        clean = np.asarray(row["clean"].convert("RGB"), np.float32) / 255
        diagnosis = reasoner.diagnose([degraded])[0]
        if not diagnosis.noise.present:
            continue
        entry = {"input": psnr(degraded, clean), "ssim input": ssim(degraded, clean)}
        for window in windows:
            priors.NLM_SEARCH = window  # the module's setting, read at each call
            started = time.perf_counter()
            restored = restorer.restore_array(degraded, diagnosis)
            entry[f"seconds {window}"] = time.perf_counter() - started
            entry[window], entry[f"ssim {window}"] = psnr(restored, clean), ssim(restored, clean)
        rows.append(entry)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="an rnr-synth set (hf format) of validation photos")
    parser.add_argument("--windows", type=int, nargs="+", default=[11, 7, 9], help="search windows, the first the reference")
    args = parser.parse_args()
    data = load_from_disk(args.data)
    rows = measure(data, args.windows)
    first = args.windows[0]
    print(f"{len(rows)} of {len(data)} samples called noisy (lite weights)\n")
    print(f"| search | gain (dB) | vs {first} | worst vs {first} | SSIM gain | worse than input by > 1 dB | restore (s) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for window in args.windows:
        change = np.array([r[window] - r[first] for r in rows])
        gain = np.mean([r[window] - r["input"] for r in rows])
        harmed = sum(r[window] - r["input"] < -1 for r in rows)
        seconds = np.mean([r[f"seconds {window}"] for r in rows])
        ssim_gain = np.mean([r[f"ssim {window}"] - r["ssim input"] for r in rows])
        print(f"| {window} | {gain:+.3f} | {change.mean():+.3f} | {change.min():+.3f} | {ssim_gain:+.4f} | {harmed} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
