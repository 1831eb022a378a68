"""The semi-realworld degradation model, Eq. 1: ``I_d = B_k(t·J + (1−t)·A) + S_rain + N``.

`plan` draws which degradations are present and their parameters from one
`np.random.Generator`; `apply_plan` applies them in the fixed order fog → shake →
rain → noise, keeping every stage and a JSON-able record of flags, parameters and
severity scores; `replay` rebuilds a sample bit for bit from its clean image and record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Union

import numpy as np

from degradations import depth as depth_priors
from degradations import fog, noise, rain, shake
from degradations._ranges import check_range

ORDER = ("fog", "shake", "rain", "noise")
DepthInput = Union[np.ndarray, Callable[[np.ndarray], np.ndarray], None]


@dataclass(frozen=True)
class SynthConfig:
    """Presence probabilities, the share of clean samples, and each degradation's ranges."""

    p_fog: float = 0.5
    p_shake: float = 0.5
    p_rain: float = 0.5
    p_noise: float = 0.5
    clean_share: float = 0.1
    # Photos are not all tack-sharp: a share of the clean crops is softened (Gaussian, sigma in
    # px) before degrading, so a diagnoser learns that soft is not shaken. The softened crop
    # is the ground truth: softness is the scene, not a degradation.
    soft_share: float = 0.0
    soft_sigma: tuple[float, float] = (0.5, 2.0)
    # Not the paper's either: give a share of the clean crops another camera's look before
    # degrading (exposure gain, white-balance gains, JPEG compression at a drawn quality), so a
    # model meets more than its photos; the changed crop is the ground truth.
    look_share: float = 0.0
    look_gain: tuple[float, float] = (0.6, 1.4)
    look_white_balance: tuple[float, float] = (0.85, 1.15)  # per-channel gain, the mean gain kept 1
    look_jpeg: tuple[float, float] = (40.0, 95.0)  # quality; half the looked crops are compressed
    fog: fog.FogConfig = field(default_factory=fog.FogConfig)
    shake: shake.ShakeConfig = field(default_factory=shake.ShakeConfig)
    rain: rain.RainConfig = field(default_factory=rain.RainConfig)
    noise: noise.NoiseConfig = field(default_factory=noise.NoiseConfig)

    def __post_init__(self) -> None:
        for name in ("p_fog", "p_shake", "p_rain", "p_noise", "clean_share", "soft_share", "look_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {value}")
        if self.clean_share < 1.0 and not any(self.probabilities()):
            raise ValueError("every p_* is 0, so no degraded sample can be drawn: raise one, or set clean_share=1")
        check_range("soft_sigma", self.soft_sigma, 0.0, None)
        check_range("look_gain", self.look_gain, 0.05, None)
        check_range("look_white_balance", self.look_white_balance, 0.05, None)
        check_range("look_jpeg", self.look_jpeg, 1.0, 100.0)

    def probabilities(self) -> tuple[float, float, float, float]:
        return (self.p_fog, self.p_shake, self.p_rain, self.p_noise)


@dataclass(frozen=True, eq=False)
class Plan:
    """What to apply: each degradation's parameters, or None when absent."""

    fog: fog.FogParams | None = None
    shake: shake.ShakeParams | None = None
    rain: rain.RainParams | None = None
    noise: noise.NoiseParams | None = None


@dataclass
class Sample:
    clean: np.ndarray
    degraded: np.ndarray
    stages: dict[str, np.ndarray]  # the image after each present degradation, in ORDER
    record: dict[str, Any]  # JSON-able flags, parameters and scores
    depth: np.ndarray | None = None  # the relative depth fog used, when fog is present


def plan(rng: np.random.Generator, config: SynthConfig = SynthConfig()) -> Plan:
    """Draw presence flags (at least one unless the sample is clean) and parameters."""
    if rng.random() < config.clean_share:
        return Plan()
    probabilities = np.asarray(config.probabilities())
    flags = rng.random(4) < probabilities
    while not flags.any():  # conditioned on "not clean": redraw rather than add clean samples
        flags = rng.random(4) < probabilities
    fog_params = fog.sample_params(rng, config.fog) if flags[0] else None
    shake_params = shake.sample_params(rng, config.shake) if flags[1] else None
    light = fog_params.atmospheric_light if fog_params else None
    rain_params = rain.sample_params(rng, config.rain, light) if flags[2] else None
    noise_params = noise.sample_params(rng, config.noise) if flags[3] else None
    return Plan(fog=fog_params, shake=shake_params, rain=rain_params, noise=noise_params)


def synthesize(
    clean: np.ndarray,
    rng: np.random.Generator,
    config: SynthConfig = SynthConfig(),
    depth: DepthInput = None,
    depth_source: str = depth_priors.HEURISTIC,
) -> Sample:
    """Degrade a float32 (H, W, 3) image in [0, 1] with a freshly drawn plan."""
    return apply_plan(clean, plan(rng, config), depth, depth_source)


def apply_plan(
    clean: np.ndarray, the_plan: Plan, depth: DepthInput = None, depth_source: str = depth_priors.HEURISTIC
) -> Sample:
    if clean.dtype != np.float32 or clean.ndim != 3 or clean.shape[2] != 3:
        raise ValueError(f"expected a float32 (H, W, 3) image in [0, 1], got {clean.dtype} {clean.shape}")
    image = clean
    stages: dict[str, np.ndarray] = {}
    record: dict[str, Any] = {"clean": all(p is None for p in _params(the_plan))}
    depth_map = None

    if the_plan.fog is not None:
        depth_map = _resolve_depth(clean, depth, depth_source)
        t = fog.transmission(depth_map, the_plan.fog.beta)
        t_mean = float(t.mean(dtype=np.float64))
        image = stages["fog"] = fog.apply(image, the_plan.fog, t)
        params = {"atmospheric_light": list(the_plan.fog.atmospheric_light), "beta": the_plan.fog.beta, "t_mean": t_mean}
        record["fog"] = _present(fog.severity(t_mean), params, depth_source=depth_source)
    else:
        record["fog"] = _absent(depth_source=None)

    if the_plan.shake is not None:
        stats = shake.kernel_stats(the_plan.shake.kernel)
        image = stages["shake"] = shake.apply(image, the_plan.shake)
        params = {
            "direction_deg": stats.direction_deg,
            "length_px": stats.length_px,
            "energy": stats.energy,
            "kernel_size": stats.kernel_size,
            "r_rms": stats.r_rms,
            "kernel": the_plan.shake.kernel.tolist(),
        }
        record["shake"] = _present(shake.severity(stats.r_rms, stats.kernel_size), params)
    else:
        record["shake"] = _absent()

    if the_plan.rain is not None:
        alpha = rain.alpha(rain.layer(image.shape[:2], the_plan.rain), the_plan.rain)
        share = rain.coverage(alpha)
        image = stages["rain"] = rain.apply(image, the_plan.rain, alpha)
        params = {key: getattr(the_plan.rain, key) for key in ("density", "slant_deg", "length_px", "width_px", "opacity")}
        params.update(color=list(the_plan.rain.color), seed=the_plan.rain.seed, coverage=share)
        record["rain"] = _present(rain.severity(share), params)
    else:
        record["rain"] = _absent()

    if the_plan.noise is not None:
        sigma = noise.sigma_map(image, the_plan.noise)
        sigma_mean = float(sigma.mean(dtype=np.float64))
        image = stages["noise"] = noise.apply(image, the_plan.noise, sigma)
        params = {"k": the_plan.noise.k, "b": the_plan.noise.b, "sigma_mean": sigma_mean, "seed": the_plan.noise.seed}
        record["noise"] = _present(noise.severity(sigma_mean), params)
    else:
        record["noise"] = _absent()

    return Sample(clean=clean, degraded=image, stages=stages, record=record, depth=depth_map)


def plan_from_record(record: Mapping[str, Any]) -> Plan:
    """The plan a record was made from (the inverse of what `apply_plan` logs)."""
    fog_params = shake_params = rain_params = noise_params = None
    if record["fog"]["present"]:
        p = record["fog"]["params"]
        fog_params = fog.FogParams(atmospheric_light=tuple(p["atmospheric_light"]), beta=p["beta"])
    if record["shake"]["present"]:
        shake_params = shake.ShakeParams(np.asarray(record["shake"]["params"]["kernel"], np.float32))
    if record["rain"]["present"]:
        p = record["rain"]["params"]
        rain_params = rain.RainParams(
            p["density"], p["slant_deg"], p["length_px"], p["width_px"], p["opacity"], tuple(p["color"]), int(p["seed"])
        )
    if record["noise"]["present"]:
        p = record["noise"]["params"]
        noise_params = noise.NoiseParams(k=p["k"], b=p["b"], seed=int(p["seed"]))
    return Plan(fog=fog_params, shake=shake_params, rain=rain_params, noise=noise_params)


def replay(clean: np.ndarray, record: Mapping[str, Any], depth: DepthInput = None) -> Sample:
    """Rebuild a sample from its clean image and record, bit for bit.

    Fog made with the heuristic depth needs nothing more; fog made from a supplied map or
    a model needs that same depth (array or callable) passed as `depth`.
    """
    source = record["fog"].get("depth_source") or depth_priors.HEURISTIC
    if record["fog"]["present"] and source != depth_priors.HEURISTIC and depth is None:
        raise ValueError(f"this sample's fog used depth from {source}; pass that depth map as depth=")
    return apply_plan(clean, plan_from_record(record), depth, source)


def _resolve_depth(clean: np.ndarray, depth: DepthInput, source: str) -> np.ndarray:
    if depth is None:
        if source != depth_priors.HEURISTIC:
            raise ValueError(f"depth source {source!r} named but no depth given")
        return depth_priors.heuristic_depth(clean)
    depth_map = depth(clean) if callable(depth) else depth
    depth_map = np.asarray(depth_map, np.float32)
    if depth_map.shape != clean.shape[:2]:
        raise ValueError(f"depth map is {depth_map.shape}, the image {clean.shape[:2]}: resize it first")
    return depth_map


def _params(the_plan: Plan) -> tuple:
    return (the_plan.fog, the_plan.shake, the_plan.rain, the_plan.noise)


def _present(severity: float, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"present": True, "severity": severity, "params": params, **extra}


def _absent(**extra: Any) -> dict[str, Any]:
    return {"present": False, "severity": 0.0, "params": {}, **extra}
