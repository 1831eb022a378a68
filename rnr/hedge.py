"""Doubt carried into restoration: a degradation the reasoner is unsure of is corrected in part.

Why: the lite reasoner's shake probability does not separate small shakes from soft,
unshaken photos (validation photos, 512 px: five of sixteen shakes alone scored 0.35-0.58,
eight of 148 clean photos 0.52-0.85), and either mistake costs a lot at a hard cut-off: a
missed 1.5 px shake leaves 3-7 dB on the table, a deblurred clean photo comes back at
34-39 dB of itself. Restoring both ways and blending by a weight that follows the
probability halves the error of whichever call was wrong, in expectation, for one
more restoration on the photos in doubt. On two validation draws (535 degraded samples at
512 px, 148 clean photos) the shipped shake ramp, 0.20-1.00, moved the mean gain +6.16 ->
+6.22 dB and shake alone +0.98 -> +1.28 dB, harmed no more samples (12), and lifted the
worst clean photo 34.6 -> 36.4 dB (`benchmarks/val_hedge.py`, rnr/weights/MODEL_CARD.md).

The reported diagnosis stays the cut-off's (one of the two sides); the `Hedge` says what
was blended, and `rnr.pipeline.explain` says it in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from rnr.diagnosis import Diagnosis

SURE = 0.01  # a weight within this of 0 or 1 is that side alone: one restoration, not two


@dataclass(frozen=True)
class Hedge:
    """One degradation in doubt: the restorations with it and without it, blended by `weight`."""

    kind: str
    probability: float  # the reasoner's presence probability for `kind`
    weight: float  # the share of the restoration with it: 0 without, 1 with
    with_it: Diagnosis
    without_it: Diagnosis

    @property
    def blends(self) -> bool:
        """Whether both restorations are needed (`blending_weight`)."""
        return blending_weight(self.weight)


def blending_weight(weight: float) -> bool:
    """Whether a correction's share needs both restorations: it is not, within `SURE`, one side."""
    return SURE < weight < 1 - SURE


def ramp_weight(probability: float, ramp: tuple[float, float]) -> float:
    """The correction's share for a presence probability: 0 up to ramp[0], 1 from ramp[1], linear between.

    >>> ramp_weight(0.1, (0.2, 1.0)), ramp_weight(0.4, (0.2, 1.0)), ramp_weight(1.0, (0.2, 1.0))
    (0.0, 0.25, 1.0)
    """
    low, high = ramp
    return float(np.clip((probability - low) / (high - low), 0.0, 1.0))


def hedged_restore(restorer: Any, image: Any, diagnosis: Diagnosis | None, hedge: Hedge | None) -> np.ndarray:
    """The restorer's output for one image: guided by `diagnosis`, or, given a blending `hedge`, the weighted
    mean of its outputs with and without the doubted degradation (any restorer: they all read a `Diagnosis`)."""
    if hedge is None or not hedge.blends:
        return restorer.restore([image], [diagnosis])[0]
    with_it, without_it = (np.asarray(out, np.float32) for out in restorer.restore([image, image], [hedge.with_it, hedge.without_it]))
    return hedge.weight * with_it + (1.0 - hedge.weight) * without_it


def restore_all(restorer: Any, images: Sequence[Any], diagnoses: Sequence[Diagnosis | None],
                hedges: Sequence[Hedge | None]) -> list[np.ndarray]:
    """`hedged_restore` over a set (one hedge, or None, per image)."""
    if not len(images) == len(diagnoses) == len(hedges):
        raise ValueError(f"{len(images)} images, {len(diagnoses)} diagnoses and {len(hedges)} hedges: give one of each per image")
    return [hedged_restore(restorer, image, d, h) for image, d, h in zip(images, diagnoses, hedges)]
