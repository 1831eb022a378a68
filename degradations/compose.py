"""The semi-realworld degradation model, Eq. 1: ``I_d = B_k(t·J + (1−t)·A) + S_rain + N``.

`plan` draws which degradations are present and their parameters from one
`np.random.Generator`; `apply_plan` applies them in the fixed order fog → shake →
rain → noise, keeping every stage and a JSON-able record of flags, parameters and
severity scores; `replay` rebuilds a sample bit for bit from its clean image and record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping, Union

import numpy as np

from degradations import depth as depth_priors
from degradations import fog, noise, rain, shake
from degradations.ranges import check_range
from rnr.schema import BY_NAME, DEGRADATIONS, record_params

ORDER = DEGRADATIONS
SEVERITY = {"fog": fog.severity, "shake": shake.severity, "rain": rain.severity, "noise": noise.severity}
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
        image = stages["fog"] = fog.apply(image, the_plan.fog, t)
        record["fog"] = _present("fog", fog.record_values(the_plan.fog, t), depth_source=depth_source)
    else:
        record["fog"] = _absent(depth_source=None)

    if the_plan.shake is not None:
        image = stages["shake"] = shake.apply(image, the_plan.shake)
        record["shake"] = _present("shake", shake.record_values(the_plan.shake))
    else:
        record["shake"] = _absent()

    if the_plan.rain is not None:
        alpha = rain.alpha(rain.layer(image.shape[:2], the_plan.rain), the_plan.rain)
        image = stages["rain"] = rain.apply(image, the_plan.rain, alpha)
        record["rain"] = _present("rain", rain.record_values(the_plan.rain, alpha))
    else:
        record["rain"] = _absent()

    if the_plan.noise is not None:
        sigma = noise.sigma_map(image, the_plan.noise)
        image = stages["noise"] = noise.apply(image, the_plan.noise, sigma)
        record["noise"] = _present("noise", noise.record_values(the_plan.noise, sigma))
    else:
        record["noise"] = _absent()

    return Sample(clean=clean, degraded=image, stages=stages, record=record, depth=depth_map)


def plan_from_record(record: Mapping[str, Any]) -> Plan:
    """The plan a record was made from (the inverse of what `apply_plan` logs)."""
    present = {name: record[name]["params"] for name in ORDER if record[name]["present"]}
    return Plan(
        fog=_params_from(fog.FogParams, present["fog"]) if "fog" in present else None,
        shake=shake.ShakeParams(np.asarray(present["shake"]["kernel"], np.float32)) if "shake" in present else None,
        rain=_params_from(rain.RainParams, present["rain"]) if "rain" in present else None,
        noise=_params_from(noise.NoiseParams, present["noise"]) if "noise" in present else None,
    )


def _params_from(cls: type, params: Mapping[str, Any]) -> Any:
    """A degradation's parameters dataclass from its record entry (JSON lists back to tuples)."""
    values = {f.name: params[f.name] for f in fields(cls)}
    return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in values.items()})


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


def _present(name: str, values: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """A present degradation's record: its severity from the schema's inputs, its params in schema order."""
    score = SEVERITY[name](*(values[key] for key in BY_NAME[name].severity_inputs))
    return {"present": True, "severity": score, "params": record_params(name, values), **extra}


def _absent(**extra: Any) -> dict[str, Any]:
    return {"present": False, "severity": 0.0, "params": {}, **extra}
