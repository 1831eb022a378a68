"""Rewards for the restorer's GRPO stage, as plain functions (trl's convention).

Each takes the severities the frozen reasoner gave the degraded input and each candidate
(rows in `rnr.DEGRADATIONS` order: fog, shake, rain, noise) and returns one float per
candidate.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def severity_reduction(
    input_severities: Sequence[float],
    candidate_severities: Sequence[Sequence[float]],
    weights: Sequence[float] | None = None,
) -> list[float]:
    """The paper's reward: ``r_k = Σ_i w_i·(s_i(I_d) − s_i(Ĵ_k))`` (all weights 1 by default).

    >>> severity_reduction([50, 0, 30, 10], [[10, 0, 5, 10], [50, 0, 30, 10], [60, 5, 30, 10]])
    [65.0, 0.0, -15.0]
    >>> severity_reduction([50, 0, 30, 10], [[10, 0, 5, 10]], weights=[1, 1, 0, 1])
    [40.0]
    """
    before = np.asarray(input_severities, np.float64)
    after = np.asarray(candidate_severities, np.float64).reshape(-1, before.size)
    w = np.ones(before.size) if weights is None else np.asarray(weights, np.float64)
    return [float(v) for v in ((before - after) * w).sum(axis=1)]


def clipped(rewards: Sequence[float], limit: float | None) -> list[float]:
    """Rewards clipped to [-limit, limit] (None: unchanged).

    >>> clipped([150.0, -3.0, 20.0], 100)
    [100.0, -3.0, 20.0]
    """
    if limit is None:
        return [float(r) for r in rewards]
    return [float(np.clip(r, -limit, limit)) for r in rewards]
