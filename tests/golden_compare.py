"""Golden outputs compared up to the last bits of floating point.

NumPy and OpenBLAS pick their arctan2 and eigen-solver kernels by CPU (AVX2, AVX-512, ...),
so the same code on another machine may differ in a float's final digit (CI met
36.559690884863784 against 36.55969088486381 for a kernel's direction). The golden tests
guard against changes of behaviour, so every float is compared at 10 significant digits:
a real change moves far more than that, one-ulp noise does not.
"""

from __future__ import annotations

import json

SIGNIFICANT_DIGITS = 10


def rounded(value):
    """`value` with every float at SIGNIFICANT_DIGITS, JSON held in strings included."""
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, str) and value.startswith(("{", "[")):
        try:
            return {"json": rounded(json.loads(value))}
        except json.JSONDecodeError:
            return value
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(item) for item in value]
    return value
