"""Shared checks for the (low, high) sampling ranges that every degradation config holds."""

from __future__ import annotations

import numpy as np


def check_range(name: str, value: tuple, lowest: float | None, highest: float | None) -> None:
    """Refuse a range that is not two numbers, low <= high, inside [lowest, highest]."""
    if len(value) != 2:
        raise ValueError(f"{name} must be a [low, high] pair, got {value!r}")
    low, high = value
    if not low <= high:
        raise ValueError(f"{name}: low {low} is above high {high}; write [low, high]")
    if lowest is not None and low < lowest:
        raise ValueError(f"{name}: {low} is below the smallest allowed value {lowest}")
    if highest is not None and high > highest:
        raise ValueError(f"{name}: {high} is above the largest allowed value {highest}")


def uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))
