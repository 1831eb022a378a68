"""Validation of a lite reasoner: presence precision / recall / F1 and severity MAE per degradation, false fog calls.

    python benchmarks/val_reasoner.py data/v2-val-check512b [WEIGHTS]

WEIGHTS defaults to the shipped reasoner. Run it on validation sets only, never on test photos
(rnr/weights/MODEL_CARD.md, stage 1d).
"""

import json
import sys

import numpy as np
from datasets import load_from_disk

from reasoner.accuracy import presence_scores, severity_mae
from reasoner.lite import LiteReasoner
from rnr.diagnosis import Diagnosis


def main() -> None:
    data = load_from_disk(sys.argv[1])
    reasoner = LiteReasoner.load(sys.argv[2]) if len(sys.argv) > 2 else LiteReasoner.load()
    truth, images, stems = [], [], []
    for row in data:
        record = json.loads(row["record"])
        truth.append(Diagnosis.from_record(record))
        stems.append(record["stem"])
        images.append(np.asarray(row["degraded"].convert("RGB"), np.float32) / 255)
    predicted = reasoner.diagnose(images)
    scores, mae = presence_scores(predicted, truth), severity_mae(predicted, truth)
    print("| degradation | precision | recall | F1 | severity MAE |\n|---|---:|---:|---:|---:|")
    for name, score in scores.items():
        print(f"| {name} | {score['precision']:.3f} | {score['recall']:.3f} | {score['f1']:.3f} | {mae[name]:.2f} |")
    false_fog = [(stem, sorted(t.present())) for p, t, stem in zip(predicted, truth, stems)
                 if "fog" in p.present() and "fog" not in t.present()]
    print(f"false fog calls: {len(false_fog)} {false_fog}")


if __name__ == "__main__":
    main()
