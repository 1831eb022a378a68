"""A lite reasoner presence cut-off (shake by default), chosen on validation photos with the restorer it feeds.

    python benchmarks/val_cutoff.py data/v2-val-check512 data/corpus/val [--kind shake] [--cutoffs 0.6 0.45 0.3] [--restorer W]
        [--reasoner W] [--write]

The shipped cut-off (0.60) was held above the calibrated 0.30 because, with the diagnosis's line
kernel, a softened clean photo called shaken was harmed. With the kernel estimated from the photo
(restorer/kernels.py) a false call finds little blur to undo, so the trade-off moves. For each
cut-off: on the rnr-synth set, the kind's precision / recall / F1, the mean PSNR gain of the lite pair
and how many samples end worse than their input by more than 1 dB; on the clean photos at full
size and at 512 px, each sharp and softened by a 1.2 px Gaussian (slightly out of focus, not
shaken), how many are called it and the lowest output-against-input PSNR (restored only when it
is called: the rest are the same restore at every cut-off). Validation photos only.

The choice (`reasoner.lite_train.choose_cutoff`, written into the reasoner's weights with --write):
the best F1 among the cut-offs that call no more clean photos than the highest tried, leave none below
40 dB of itself and harm no more samples; of equal F1, the higher.
"""

import argparse
import os
from pathlib import Path

import numpy as np
from datasets import load_from_disk

from reasoner.lite import LiteReasoner
from reasoner.lite_train import choose_cutoff, set_cutoff, with_cutoff
from restorer.lite import LiteRestorer
from rnr.diagnosis import DEGRADATIONS
from rnr.imageio import read_image
from rnr.metrics import psnr


def synth_scores(data, reasoners: dict, restorer, kind: str) -> dict:
    counts = {c: {"tp": 0, "fp": 0, "fn": 0, "gains": []} for c in reasoners}
    for row in data:
        degraded = np.asarray(row["degraded"].convert("RGB"), np.float32) / 255
        clean = np.asarray(row["clean"].convert("RGB"), np.float32) / 255
        restored_by_diagnosis: dict[str, np.ndarray] = {}
        for cutoff, reasoner in reasoners.items():
            diagnosis = reasoner.diagnose([degraded])[0]
            called, truth = getattr(diagnosis, kind).present, bool(row[f"{kind}_present"])
            counts[cutoff]["tp"] += called and truth
            counts[cutoff]["fp"] += called and not truth
            counts[cutoff]["fn"] += truth and not called
            if row["is_clean"]:
                continue
            key = repr(diagnosis)
            if key not in restored_by_diagnosis:
                restored_by_diagnosis[key] = restorer.restore_array(degraded, diagnosis)
            counts[cutoff]["gains"].append(psnr(restored_by_diagnosis[key], clean) - psnr(degraded, clean))
    return counts


SOFTENING_SIGMA = 1.2  # px: a slightly out-of-focus clean photo, which must not be called shaken (tests/test_lite.py)
WEB_SIDE = 512  # px: the photo as a web page or a chat shows it (longer side), where a softening blurs more of its detail


def clean_photos(folder: str):
    """Each clean photo at full size and at WEB_SIDE px, each sharp and softened by a Gaussian of SOFTENING_SIGMA px:
    all four should come back (nearly) unchanged."""
    import cv2

    for path in sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg")):
        image = read_image(path)
        scale = WEB_SIDE / max(image.shape[:2])
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
        for photo in (image, small):
            yield photo
            yield cv2.GaussianBlur(photo, (0, 0), SOFTENING_SIGMA)


def clean_scores(folder: str, reasoners: dict, restorer, kind: str) -> dict:
    out = {c: {"called": 0, "worst": float("inf")} for c in reasoners}
    count = 0
    for image in clean_photos(folder):
        count += 1
        baseline = None
        for cutoff, reasoner in reasoners.items():
            diagnosis = reasoner.diagnose([image])[0]
            if getattr(diagnosis, kind).present:
                out[cutoff]["called"] += 1
                out[cutoff]["worst"] = min(out[cutoff]["worst"], psnr(restorer.restore_array(image, diagnosis), image))
            elif baseline is None:
                baseline = psnr(restorer.restore_array(image, diagnosis), image)
            if not getattr(diagnosis, kind).present:
                out[cutoff]["worst"] = min(out[cutoff]["worst"], baseline)
    return out | {"count": count}


def score_rows(synth: dict, clean: dict) -> list[dict]:
    """One row per cut-off: precision, recall, F1, gains and harm on the synth set; clean photos called and the worst."""
    rows = []
    for cutoff, c in synth.items():
        precision, recall = c["tp"] / max(c["tp"] + c["fp"], 1), c["tp"] / max(c["tp"] + c["fn"], 1)
        gains = np.array(c["gains"])
        rows.append({"cutoff": cutoff, "precision": precision, "recall": recall,
                     "f1": 2 * precision * recall / max(precision + recall, 1e-9), "gain": float(gains.mean()),
                     "harmed": int((gains < -1).sum()), "clean_called": clean[cutoff]["called"], "clean_worst": clean[cutoff]["worst"]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="an rnr-synth set (hf format) of validation photos")
    parser.add_argument("photos", help="a folder of clean validation photos")
    parser.add_argument("--kind", choices=DEGRADATIONS, default="shake", help="the degradation whose cut-off varies")
    parser.add_argument("--cutoffs", type=float, nargs="+", default=[0.6, 0.45, 0.3])
    parser.add_argument("--restorer", default=None, help="lite restorer weights (default: the shipped ones)")
    parser.add_argument("--reasoner", default=None, help="lite reasoner weights (default: the shipped ones)")
    parser.add_argument("--write", action="store_true", help="write the chosen cut-off into the reasoner's weights")
    args = parser.parse_args()
    base, restorer = LiteReasoner.load(args.reasoner), LiteRestorer.load(args.restorer)
    reasoners = {cutoff: with_cutoff(base, args.kind, cutoff) for cutoff in args.cutoffs}
    synth = synth_scores(load_from_disk(args.data), reasoners, restorer, args.kind)
    clean = clean_scores(args.photos, reasoners, restorer, args.kind)
    print(f"{args.data} ({len(synth[args.cutoffs[0]]['gains'])} degraded) and {clean['count']} clean photos of {args.photos}; "
          f"lite weights, restorer {restorer.name}\n")
    print(f"| {args.kind} cut-off | precision | recall | F1 | mean gain (dB) | worse by > 1 dB | clean photos called {args.kind} | lowest clean PSNR (dB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = score_rows(synth, clean)
    for row in rows:
        print(f"| {row['cutoff']:.2f} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['gain']:+.2f} | "
              f"{row['harmed']} | {row['clean_called']} | {row['clean_worst']:.1f} |")
    chosen = choose_cutoff(rows)
    print(f"\nchosen: {args.kind} {chosen:.2f}")
    if args.write:
        chosen_by = f"benchmarks/val_cutoff.py on {args.data} and {args.photos}, of {args.cutoffs}, restorer {os.path.relpath(restorer.name)}"
        thresholds = set_cutoff(base.name, args.kind, chosen, chosen_by)
        print(f"wrote presence cut-offs {dict(zip(DEGRADATIONS, thresholds))} into {base.name}")


if __name__ == "__main__":
    main()
