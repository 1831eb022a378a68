"""Shared checks for the (low, high) sampling ranges that every degradation config holds."""

from __future__ import annotations

import math
import numbers

import numpy as np


def check_range(name: str, value: tuple, lowest: float | None, highest: float | None) -> None:
    """Refuse a range that is not two finite numbers, low <= high, inside [lowest, highest]."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
        raise ValueError(f"{name} is a [low, high] range, got the single number {value}; write {name}=[{value}, {value}] for a fixed value")
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a [low, high] pair of finite numbers, got {value!r}")
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{name} must be two numbers [low, high], got {list(value)!r}")
    low, high = value
    if not (math.isfinite(low) and math.isfinite(high)):
        # an infinite bound reaches the generator as an OverflowError, samples later, inside a worker
        raise ValueError(f"{name}: [{low}, {high}] is not finite; give two finite numbers [low, high]")
    if not low <= high:
        raise ValueError(f"{name}: low {low} is above high {high}; write [low, high]")
    if lowest is not None and low < lowest:
        raise ValueError(f"{name}: {low} is below the smallest allowed value {lowest}")
    if highest is not None and high > highest:
        raise ValueError(f"{name}: {high} is above the largest allowed value {highest}")


def uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))
