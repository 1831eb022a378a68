"""Validation of a lite restorer: its PSNR gain with the lite reasoner's diagnosis and with the true one.

    python benchmarks/val_lite.py data/v2-val-paper512 [--restorer FILE] [--reasoner FILE]

Prints, for all degraded samples and for each degradation alone or among others, the mean
PSNR gain over the input with the predicted and with the true diagnosis, how many samples
the predicted one makes worse by more than 1 dB, and the worst change. This is the table of
choices in rnr/weights/MODEL_CARD.md: run it on validation sets only, never on test photos.
"""

import argparse
import json

import numpy as np
from datasets import load_from_disk

from reasoner.lite import LiteReasoner
from restorer.lite import LiteRestorer
from rnr.diagnosis import DEGRADATIONS, Diagnosis
from rnr.hedge import hedged_restore
from rnr.metrics import psnr


def sample_rows(data, restorer, reasoner) -> list[dict]:
    rows = []
    for row in data:
        degraded = np.asarray(row["degraded"].convert("RGB"), np.float32) / 255
        clean = np.asarray(row["clean"].convert("RGB"), np.float32) / 255
        truth = Diagnosis.from_record(json.loads(row["record"]))
        (predicted, hedge), = reasoner.diagnose_hedged([degraded])  # as rnr-restore restores (rnr.hedge)
        rows.append({"kinds": list(truth.present()), "input": psnr(degraded, clean),
                     "true": psnr(restorer.restore_array(degraded, truth), clean),
                     "predicted": psnr(hedged_restore(restorer, degraded, predicted, hedge), clean)})
    return rows


def summary(name: str, rows: list[dict]) -> None:
    if not rows:
        return
    inputs, true, predicted = (np.array([r[key] for r in rows]) for key in ("input", "true", "predicted"))
    change = predicted - inputs
    print(f"| {name} | {len(rows)} | {inputs.mean():.2f} | {change.mean():+.2f} | {(true - inputs).mean():+.2f} | "
          f"{int((change < -1).sum())} | {change.min():+.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="an rnr-synth set (hf format) of validation photos")
    parser.add_argument("--restorer", help="lite restorer weights (default: shipped)")
    parser.add_argument("--reasoner", help="lite reasoner weights (default: shipped)")
    args = parser.parse_args()
    rows = sample_rows(load_from_disk(args.data), LiteRestorer.load(args.restorer) if args.restorer else LiteRestorer.load(),
                       LiteReasoner.load(args.reasoner) if args.reasoner else LiteReasoner.load())
    degraded = [r for r in rows if r["kinds"]]
    print("| samples | n | input PSNR | gain, predicted | gain, true | worse by > 1 dB | worst |\n|---|---:|---:|---:|---:|---:|---:|")
    summary("all degraded", degraded)
    for name in DEGRADATIONS:
        summary(f"{name} alone", [r for r in degraded if r["kinds"] == [name]])
        summary(f"{name} among others", [r for r in degraded if name in r["kinds"]])


if __name__ == "__main__":
    main()
