"""Fog: the atmospheric scattering model with a depth-derived transmission (paper A.2).

``I = J·t + A·(1 − t)``, ``t(x) = clip(t0(x)^β, 0.05, 1)``, ``t0 = exp(−d)`` for a relative
depth ``d`` in [0, 1] (0 near, 1 far). Severity from the mean transmission:
``s = (1 − t_mean) / (1 − 0.05) · 99 + 1``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from degradations.ranges import check_range, uniform

if TYPE_CHECKING:
    from rnr.diagnosis import Finding

T_MIN = 0.05


@dataclass(frozen=True)
class FogConfig:
    atmospheric_light: tuple[float, float] = (0.7, 1.0)
    beta: tuple[float, float] = (0.8, 3.0)

    def __post_init__(self) -> None:
        check_range("fog.atmospheric_light", self.atmospheric_light, 0.0, 1.0)
        check_range("fog.beta", self.beta, 0.0, None)


@dataclass(frozen=True)
class FogParams:
    atmospheric_light: tuple[float, float, float]
    beta: float


def sample_params(rng: np.random.Generator, config: FogConfig = FogConfig()) -> FogParams:
    light = tuple(uniform(rng, config.atmospheric_light) for _ in range(3))
    return FogParams(atmospheric_light=light, beta=uniform(rng, config.beta))


def transmission(depth: np.ndarray, beta: float) -> np.ndarray:
    """``clip(exp(−d)^β, 0.05, 1)`` as float32, the same shape as `depth`."""
    t = np.exp(depth.astype(np.float32, copy=False) * np.float32(-beta))
    return np.clip(t, np.float32(T_MIN), np.float32(1.0), out=t)


def apply(image: np.ndarray, params: FogParams, transmission_map: np.ndarray) -> np.ndarray:
    """``J·t + A·(1 − t)`` for an (H, W, 3) float32 image and an (H, W) transmission."""
    light = tuple(float(a) for a in params.atmospheric_light) + (0.0,)
    # cv2 keeps the interleaved layout; numpy broadcasting of an (H, W, 1) map is ~10x slower here.
    t3 = cv2.merge([transmission_map] * 3)
    out = cv2.subtract(image, light)
    cv2.multiply(out, t3, dst=out)
    return cv2.add(out, light, dst=out)


def record_values(params: FogParams, transmission_map: np.ndarray) -> dict[str, Any]:
    """What a sample's record keeps of its fog: the parameters and the mean transmission they gave."""
    return {**asdict(params), "t_mean": float(transmission_map.mean(dtype=np.float64))}


def severity(t_mean: float) -> float:
    """Fog score in [1, 100] from the mean transmission.

    >>> severity(1.0), severity(0.05), round(severity(0.525), 3)
    (1.0, 100.0, 50.5)
    """
    return float(np.clip((1.0 - t_mean) / (1.0 - T_MIN) * 99.0 + 1.0, 1.0, 100.0))


def t_mean_for(severity_score: float) -> float:
    """The mean transmission a fog score stands for: the inverse of `severity` on [1, 100].

    >>> t_mean_for(1.0), round(t_mean_for(100.0), 6), round(t_mean_for(severity(0.4)), 6)
    (1.0, 0.05, 0.4)
    """
    return float(1.0 - (np.clip(severity_score, 1.0, 100.0) - 1.0) / 99.0 * (1.0 - T_MIN))


# A diagnosis's fog finding read back as the physics above: the consumers of a Diagnosis ask
# here, so the parameter names live in rnr.schema and this module only.


def consistent(finding: Finding) -> Finding:
    """The finding with its mean transmission derived from its severity (`t_mean_for`), one fact stated once.

    >>> from rnr.diagnosis import Finding
    >>> consistent(Finding(True, 50.5, {"t_mean": 0.9})).params["t_mean"]
    0.525
    """
    if not finding.present or "t_mean" not in finding.params:
        return finding
    return replace(finding, params={**finding.params, "t_mean": t_mean_for(finding.severity)})


def haze_of(finding: Finding) -> tuple[Any, float] | None:
    """(airlight, mean transmission) of a diagnosed fog, or None when absent or either is missing."""
    params = finding.params
    if not finding.present or "atmospheric_light" not in params or "t_mean" not in params:
        return None
    return params["atmospheric_light"], params["t_mean"]
