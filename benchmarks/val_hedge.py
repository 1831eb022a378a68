"""A lite reasoner's hedge ramp (shake by default, `rnr.hedge`), chosen on validation photos with the restorer it feeds.

    python benchmarks/val_hedge.py data/v2-val-check512b,data/v2-val-check512 data/corpus/val [--kind shake]
        [--lows 0.1 0.15 0.2 0.3 0.4 0.5] [--highs 0.8 0.9 1.0] [--restorer W] [--reasoner W] [--write]

Each sample and clean photo is restored twice: with the kind forced present (as the reasoner
predicts it) and forced absent, the other degradations as the cut-offs say. Of the two
errors a and b against the reference only |a|², |b|² and <a, b> are kept, from which the
error of any blend w·A + (1 − w)·B follows, so every ramp of the grid is scored without
restoring again. Per ramp: the mean PSNR gain over the degraded samples, the gain on the
samples with the kind alone, how many end worse than their input by more than 1 dB, and on
the clean photos (`val_cutoff.clean_photos`: full size and 512 px, sharp and softened) how
many come back below 40 dB and the worst. The first row is the plain cut-off (no hedge).
The choice: `reasoner.lite_train.choose_ramp`, written into the reasoner's weights with --write.
Validation photos only.
"""

import argparse
import os
from dataclasses import dataclass

import numpy as np
from datasets import load_from_disk

from reasoner.lite import LiteReasoner, self_consistent
from reasoner.lite_train import choose_ramp, set_hedge_ramp
from restorer.lite import LiteRestorer
from rnr.diagnosis import DEGRADATIONS
from rnr.encoding import decode
from rnr.hedge import ramp_weight
from rnr.metrics import PSNR_EPS
from val_cutoff import clean_photos


@dataclass
class Errors:
    """One image's restoration errors both ways, enough to score any blend of the two."""

    probability: float
    plain: float  # mean squared error as the cut-off restores it
    with_it: float
    without_it: float
    cross: float
    input_error: float = 0.0
    kinds: tuple[str, ...] = ()  # the true degradations; () for a clean photo
    clean_photo: bool = False

    def blended(self, weight: float) -> float:
        return weight * weight * self.with_it + (1 - weight) ** 2 * self.without_it + 2 * weight * (1 - weight) * self.cross


def errors(image: np.ndarray, reference: np.ndarray, reasoner: LiteReasoner, restorer: LiteRestorer, kind: str) -> Errors:
    presence, severity, params = reasoner.readings([image])[0]
    restored: dict[str, np.ndarray] = {}

    def error(diagnosis) -> np.ndarray:
        key = repr(diagnosis)
        if key not in restored:
            restored[key] = restorer.restore_array(image, diagnosis).astype(np.float64) - reference
        return restored[key]

    plain = error(self_consistent(decode(presence, severity, params, reasoner.thresholds)))
    a, b = (error(d) for d in reasoner.both_ways(presence, severity, params, kind))
    return Errors(float(presence[DEGRADATIONS.index(kind)]), float((plain * plain).mean()), float((a * a).mean()),
                  float((b * b).mean()), float((a * b).mean()), float(((image - reference) ** 2).mean()))


def all_errors(sets: list[str], photos: str, reasoner: LiteReasoner, restorer: LiteRestorer, kind: str) -> list[Errors]:
    from tqdm import tqdm

    found = []
    for name in sets:
        for row in tqdm(load_from_disk(name), desc=name, unit="sample"):
            degraded = np.asarray(row["degraded"].convert("RGB"), np.float32) / 255
            clean = np.asarray(row["clean"].convert("RGB"), np.float32) / 255
            item = errors(degraded, clean, reasoner, restorer, kind)
            item.kinds = tuple(n for n in DEGRADATIONS if row[f"{n}_present"])
            found.append(item)
    for photo in tqdm(list(clean_photos(photos)), desc=photos, unit="photo"):
        item = errors(photo, photo, reasoner, restorer, kind)
        item.clean_photo = True
        found.append(item)
    return found


def psnr(mse: float) -> float:
    """As `rnr.metrics.psnr` computes it from the mean squared error (identical images: its cap, not infinity)."""
    return float(10 * np.log10(1.0 / (mse + PSNR_EPS)))


def score(found: list[Errors], kind: str, ramp: tuple[float, float] | None) -> dict:
    """One row: the plain cut-off's (ramp None) or a ramp's scores."""
    def mse(item: Errors) -> float:
        return item.plain if ramp is None else item.blended(ramp_weight(item.probability, ramp))

    degraded = [item for item in found if item.kinds]
    gains = np.array([psnr(mse(item)) - psnr(item.input_error) for item in degraded])
    alone = [g for g, item in zip(gains, degraded) if item.kinds == (kind,)]
    clean = np.array([psnr(mse(item)) for item in found if item.clean_photo])
    return {"ramp": ramp, "gain": float(gains.mean()), "alone": float(np.mean(alone)) if alone else float("nan"),
            "harmed": int((gains < -1).sum()), "clean_below_40": int((clean < 40).sum()), "clean_worst": float(clean.min())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="rnr-synth sets (hf format) of validation photos, comma-separated")
    parser.add_argument("photos", help="a folder of clean validation photos")
    parser.add_argument("--kind", choices=DEGRADATIONS, default="shake", help="the degradation to hedge")
    parser.add_argument("--lows", type=float, nargs="+", default=[0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5])
    parser.add_argument("--highs", type=float, nargs="+", default=[0.8, 0.85, 0.9, 0.95, 1.0])
    parser.add_argument("--restorer", default=None, help="lite restorer weights (default: the shipped ones)")
    parser.add_argument("--reasoner", default=None, help="lite reasoner weights (default: the shipped ones)")
    parser.add_argument("--write", action="store_true", help="write the chosen ramp into the reasoner's weights")
    args = parser.parse_args()
    reasoner, restorer = LiteReasoner.load(args.reasoner), LiteRestorer.load(args.restorer)
    found = all_errors(args.data.split(","), args.photos, reasoner, restorer, args.kind)
    rows = [score(found, args.kind, None)] + [score(found, args.kind, (low, high)) for low in args.lows for high in args.highs if low < high]
    cutoff = reasoner.thresholds[DEGRADATIONS.index(args.kind)]
    print(f"{args.data} ({sum(bool(i.kinds) for i in found)} degraded) and {sum(i.clean_photo for i in found)} clean photos of "
          f"{args.photos}; lite weights, reasoner {reasoner.name}, restorer {restorer.name}\n")
    print(f"| {args.kind} ramp | mean gain (dB) | {args.kind} alone (dB) | worse by > 1 dB | clean photos < 40 dB | lowest clean PSNR (dB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        label = f"none (cut-off {cutoff:.2f})" if row["ramp"] is None else f"{row['ramp'][0]:.2f}-{row['ramp'][1]:.2f}"
        print(f"| {label} | {row['gain']:+.3f} | {row['alone']:+.3f} | {row['harmed']} | {row['clean_below_40']} | {row['clean_worst']:.1f} |")
    chosen = choose_ramp(rows)
    print(f"\nchosen: {args.kind} {chosen}")
    if args.write and chosen is not None:
        chosen_by = f"benchmarks/val_hedge.py on {args.data} and {args.photos}, restorer {os.path.relpath(restorer.name)}"
        print(f"wrote hedge ramps {set_hedge_ramp(reasoner.name, args.kind, chosen, chosen_by)} into {reasoner.name}")


if __name__ == "__main__":
    main()
