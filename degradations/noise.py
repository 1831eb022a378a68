"""Signal-dependent Gaussian read-out noise (paper A.2).

``σ(x) = k·x + b`` for ``x`` in [0, 255], floored at 0; the noise ``N(0, σ/255)`` is added
in [0, 1] space, then the image is clipped. ``σ̄`` is the mean of ``σ/255`` over the
image and ``s = σ̄ / 0.05 · 99 + 1`` (clipped to [1, 100]).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from degradations.ranges import check_range, uniform

if TYPE_CHECKING:
    from rnr.diagnosis import Finding

SIGMA_AT_FULL_SCORE = 0.05


@dataclass(frozen=True)
class NoiseConfig:
    k: tuple[float, float] = (0.0, 0.3)
    b: tuple[float, float] = (-20.0, 20.0)

    def __post_init__(self) -> None:
        check_range("noise.k", self.k, None, None)
        check_range("noise.b", self.b, None, None)


@dataclass(frozen=True)
class NoiseParams:
    k: float
    b: float
    seed: int  # the noise field's own seed, so `apply` is a pure function of its inputs


def sample_params(rng: np.random.Generator, config: NoiseConfig = NoiseConfig()) -> NoiseParams:
    k = uniform(rng, config.k)
    b = uniform(rng, config.b)
    return NoiseParams(k=k, b=b, seed=int(rng.integers(0, 2**63 - 1)))


def sigma_map(image: np.ndarray, params: NoiseParams) -> np.ndarray:
    """Per-pixel, per-channel ``σ/255``: ``max(k·x + b, 0)/255`` with ``x = 255·image``."""
    sigma = image * np.float32(params.k)
    sigma += np.float32(params.b / 255.0)
    return np.maximum(sigma, np.float32(0.0), out=sigma)


def apply(image: np.ndarray, params: NoiseParams, sigma: np.ndarray | None = None) -> np.ndarray:
    if sigma is None:
        sigma = sigma_map(image, params)
    noise = np.random.default_rng(params.seed).standard_normal(image.shape, dtype=np.float32)
    noise *= sigma
    noise += image
    return np.clip(noise, np.float32(0.0), np.float32(1.0), out=noise)


def record_values(params: NoiseParams, sigma: np.ndarray) -> dict[str, Any]:
    """What a sample's record keeps of its noise: the parameters and the mean σ they gave."""
    return {**asdict(params), "sigma_mean": float(sigma.mean(dtype=np.float64))}


def severity(sigma_mean: float) -> float:
    """Noise score in [1, 100] from the mean normalised σ.

    >>> severity(0.0), severity(0.025), severity(0.5)
    (1.0, 50.5, 100.0)
    """
    return float(np.clip(sigma_mean / SIGMA_AT_FULL_SCORE * 99.0 + 1.0, 1.0, 100.0))


# A diagnosis's noise finding read back as the physics above: the consumers of a Diagnosis ask
# here, so the parameter names live in rnr.schema and this module only.


def consistent(finding: Finding) -> Finding:
    """The finding with its severity derived from its mean σ (`severity`), one fact stated once.

    >>> from rnr.diagnosis import Finding
    >>> consistent(Finding(True, 90.0, {"sigma_mean": 0.025})).severity
    50.5
    """
    if not finding.present or "sigma_mean" not in finding.params:
        return finding
    return replace(finding, severity=severity(finding.params["sigma_mean"]))


def sigma_of(finding: Finding) -> float | None:
    """The diagnosed mean σ (in [0, 1] units), roughly what the severity implies without one; None when absent."""
    if not finding.present:
        return None
    return finding.params.get("sigma_mean", finding.severity / 99 * SIGMA_AT_FULL_SCORE)
