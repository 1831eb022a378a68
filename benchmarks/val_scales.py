"""Two lite reasoners at the same presence cut-offs, on validation photos read at four scales.

    python benchmarks/val_scales.py BASELINE CANDIDATE [--crop-seed 0]

The candidate takes the baseline's cut-offs, so that only the network differs. For each set it prints
presence F1 and severity error per degradation (fog, shake, rain, noise): the 512 px samples of
data/v2-val-check512b, the 256 px samples of data/v2-val-mild, and random crops of both (64-200 px and
96-200 px a side), which inference reads whole as it reads photos that small. The severity error here is
over the samples that have the degradation, a miss counting as severity 0 (val_reasoner.py's
`severity_mae` averages over every sample). Validation photos only: never run it to choose on test photos.
"""

import argparse
import dataclasses
import json

import numpy as np
from datasets import load_from_disk

from reasoner.accuracy import presence_scores
from reasoner.lite import LiteReasoner
from rnr.diagnosis import DEGRADATIONS, Diagnosis

SETS = {"512 px (v2-val-check512b)": ("data/v2-val-check512b", None), "256 px (v2-val-mild)": ("data/v2-val-mild", None),
        "crops 64-200 px of v2-val-check512b": ("data/v2-val-check512b", (64, 200)),
        "crops 96-200 px of v2-val-mild": ("data/v2-val-mild", (96, 200))}


def load_set(path: str, crop: tuple[int, int] | None, rng: np.random.Generator):
    images, truth = [], []
    for row in load_from_disk(path):
        image = np.asarray(row["degraded"].convert("RGB"), np.float32) / 255
        if crop:
            height, width = (int(side) for side in rng.integers(crop[0], crop[1] + 1, 2))
            top, left = int(rng.integers(0, image.shape[0] - height + 1)), int(rng.integers(0, image.shape[1] - width + 1))
            image = image[top:top + height, left:left + width]
        images.append(image)
        truth.append(Diagnosis.from_record(json.loads(row["record"])))
    return images, truth


def scores(predicted: list[Diagnosis], truth: list[Diagnosis]) -> str:
    presence = presence_scores(predicted, truth)
    cells = []
    for kind in DEGRADATIONS:
        pairs = [(getattr(p, kind), getattr(t, kind)) for p, t in zip(predicted, truth)]
        error = np.mean([abs((p.severity if p.present else 0) - t.severity) for p, t in pairs if t.present])
        cells.append(f"{presence[kind]['f1']:.3f} / {error:.1f}")
    return " | ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline")
    parser.add_argument("candidate")
    parser.add_argument("--crop-seed", type=int, default=0)
    args = parser.parse_args()
    baseline = LiteReasoner.load(args.baseline)
    candidate = dataclasses.replace(LiteReasoner.load(args.candidate), thresholds=baseline.thresholds)
    print(f"cut-offs (fog, shake, rain, noise): {baseline.thresholds}; cells: presence F1 / severity error\n")
    print("| set | reasoner | fog | shake | rain | noise |\n|---|---|---|---|---|---|")
    for name, (path, crop) in SETS.items():
        images, truth = load_set(path, crop, np.random.default_rng(args.crop_seed))
        for label, reasoner in (("baseline", baseline), ("candidate", candidate)):
            print(f"| {name} | {label} | {scores(reasoner.diagnose(images), truth)} |", flush=True)


if __name__ == "__main__":
    main()
