"""Presence F1 of the lite reasoner at every calibration cut-off, the clean samples each flags, and AUC.

    python benchmarks/threshold_curves.py data/lite-val-soft [data/lite-test ...] [--reasoner W]

Shows how flat F1 is around the calibrated cut-offs (the weights' metadata holds them), which
is what `LiteReasonerConfig.calibration_tolerance` trades on: see rnr/weights/MODEL_CARD.md.
"""

from __future__ import annotations

import argparse

import numpy as np


def auc(scores: np.ndarray, truth: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    positives, negatives = scores[truth], scores[~truth]
    if not len(positives) or not len(negatives):
        return float("nan")
    above = (positives[:, None] > negatives[None, :]).mean()
    return float(above + 0.5 * (positives[:, None] == negatives[None, :]).mean())


def main() -> None:
    import torch

    from reasoner.lite import LiteReasoner, split_outputs
    from reasoner.accuracy import f_score
    from reasoner.lite_train import THRESHOLD_GRID
    from rnr.diagnosis import DEGRADATIONS
    from rnr.pairs import load_pairs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+", help="rnr-synth sets")
    parser.add_argument("--reasoner", help="lite reasoner weights (default: shipped)")
    args = parser.parse_args()
    reasoner = LiteReasoner.load(args.reasoner) if args.reasoner else LiteReasoner.load()
    print(f"lite reasoner: {args.reasoner or 'shipped'}; its cut-offs {dict(zip(DEGRADATIONS, reasoner.thresholds))}")
    for data in args.data:
        pairs = load_pairs(data)
        logits, _, _ = split_outputs(reasoner.predict(list(pairs.degraded)))
        probabilities = torch.sigmoid(logits).numpy()
        present = np.array([[r[name]["present"] for name in DEGRADATIONS] for r in pairs.records], bool)
        clean = ~present.any(axis=1)
        print(f"\n## {data}: {len(present)} samples, {clean.sum()} clean\n")
        print("| degradation | " + " | ".join(f"{cut:.2f}" for cut in THRESHOLD_GRID) + " |")
        print("|---|" + "---:|" * len(THRESHOLD_GRID))
        for column, name in enumerate(DEGRADATIONS):
            p, truth = probabilities[:, column], present[:, column]
            print(f"| {name} F1 | " + " | ".join(f"{f_score(p >= cut, truth):.3f}" for cut in THRESHOLD_GRID) + " |")
            print(f"| {name}: clean flagged | " + " | ".join(str(int(((p >= cut) & clean).sum())) for cut in THRESHOLD_GRID) + " |")
        print("\n| degradation | AUC | AUC, samples with fog ≥ 50 | AUC, samples with noise |\n|---|---:|---:|---:|")
        dense = np.array([r["fog"]["severity"] >= 50 for r in pairs.records])
        noisy = present[:, DEGRADATIONS.index("noise")]
        for column, name in enumerate(DEGRADATIONS):
            p, truth = probabilities[:, column], present[:, column]
            print(f"| {name} | {auc(p, truth):.3f} | {auc(p[dense], truth[dense]):.3f} | {auc(p[noisy], truth[noisy]):.3f} |")


if __name__ == "__main__":
    main()
