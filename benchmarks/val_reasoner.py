"""Validation of a lite reasoner: reasoner.accuracy's report (presence, severity and parameter
errors per degradation) and the false fog calls, the worst of a lite reasoner's mistakes.

    python benchmarks/val_reasoner.py data/v2-val-check512b [WEIGHTS]

WEIGHTS defaults to the shipped reasoner. Run it on validation sets only, never on test photos
(rnr/weights/MODEL_CARD.md, stage 1d).
"""

import json
import sys
import time

import numpy as np
from datasets import load_from_disk

from reasoner.accuracy import accuracy_report, markdown
from reasoner.lite import LiteReasoner
from rnr.diagnosis import Diagnosis


def main() -> None:
    data = load_from_disk(sys.argv[1])
    reasoner = LiteReasoner.load(sys.argv[2]) if len(sys.argv) > 2 else LiteReasoner.load()
    records = [json.loads(r) for r in data["record"]]
    truth = [Diagnosis.from_record(r) for r in records]
    images = [np.asarray(im.convert("RGB"), np.float32) / 255 for im in data["degraded"]]
    start = time.perf_counter()
    predicted = reasoner.diagnose(images)
    report = accuracy_report(predicted, truth, parse_failures=0, seconds=time.perf_counter() - start)
    print(markdown(report, f"Lite reasoner {reasoner.name} on {sys.argv[1]}"))
    # A false fog call is the one that repaints a clean pale photo (MODEL_CARD.md, stage 1d).
    false_fog = [(r["stem"], sorted(t.present())) for p, t, r in zip(predicted, truth, records)
                 if "fog" in p.present() and "fog" not in t.present()]
    print(f"false fog calls: {len(false_fog)} {false_fog}")


if __name__ == "__main__":
    main()
