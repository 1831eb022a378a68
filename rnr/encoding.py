"""A `Diagnosis` as a fixed-length vector, and back: the lite models' language.

Layout (`VECTOR_SIZE` = 26): 4 presence flags, 4 severities / 100, then 18 normalised
parameters — fog: atmospheric light r, g, b, beta / 3, t_mean; shake: sin 2θ, cos 2θ
(directions are axial), length / 10, energy, kernel size / 31; rain: density · 200,
slant / 30, length / 40, width / 3, opacity; noise: k / 0.3, b / 20, σ̄ · 10. Parameters
of an absent degradation are 0.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from rnr.diagnosis import DEGRADATIONS, Diagnosis, Finding

PARAM_SLOTS = {
    "fog": ("light_r", "light_g", "light_b", "beta", "t_mean"),
    "shake": ("dir_sin", "dir_cos", "length_px", "energy", "kernel_size"),
    "rain": ("density", "slant_deg", "length_px", "width_px", "opacity"),
    "noise": ("k", "b", "sigma_mean"),
}
PARAM_COUNT = sum(len(v) for v in PARAM_SLOTS.values())
VECTOR_SIZE = 2 * len(DEGRADATIONS) + PARAM_COUNT
_SCALE = {
    ("fog", "beta"): 1 / 3, ("shake", "length_px"): 1 / 10, ("shake", "kernel_size"): 1 / 31,
    ("rain", "density"): 200.0, ("rain", "slant_deg"): 1 / 30, ("rain", "length_px"): 1 / 40,
    ("rain", "width_px"): 1 / 3, ("noise", "k"): 1 / 0.3, ("noise", "b"): 1 / 20, ("noise", "sigma_mean"): 10.0,
}


def param_offset(name: str) -> int:
    offset = 2 * len(DEGRADATIONS)
    for other in DEGRADATIONS:
        if other == name:
            return offset
        offset += len(PARAM_SLOTS[other])
    raise KeyError(name)


def encode(diagnosis: Diagnosis | None) -> np.ndarray:
    """float32 [VECTOR_SIZE]; None (no reasoner) encodes as all zeros.

    >>> from rnr import Finding
    >>> v = encode(Diagnosis(noise=Finding(True, 40.0, {"k": 0.15, "b": 4.0, "sigma_mean": 0.02})))
    >>> [round(float(x), 3) for x in v[:8]], [round(float(x), 3) for x in v[-3:]]
    ([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.4], [0.5, 0.2, 0.2])
    """
    vector = np.zeros(VECTOR_SIZE, np.float32)
    if diagnosis is None:
        return vector
    for i, name in enumerate(DEGRADATIONS):
        finding = getattr(diagnosis, name)
        if not finding.present:
            continue
        vector[i] = 1.0
        vector[len(DEGRADATIONS) + i] = finding.severity / 100.0
        values = _raw_slots(name, finding.params)
        start = param_offset(name)
        for j, slot in enumerate(PARAM_SLOTS[name]):
            if slot in values:
                vector[start + j] = values[slot] * _SCALE.get((name, slot), 1.0)
    return vector


def _raw_slots(name: str, params: dict) -> dict[str, float]:
    values = {k: float(v) for k, v in params.items() if not isinstance(v, (tuple, list))}
    if name == "fog" and "atmospheric_light" in params:
        values.update(zip(("light_r", "light_g", "light_b"), (float(c) for c in params["atmospheric_light"])))
    if name == "shake" and "direction_deg" in params:
        angle = math.radians(2 * float(params["direction_deg"]))
        values.update(dir_sin=math.sin(angle), dir_cos=math.cos(angle))
    return values


def decode(presence: np.ndarray, severities: np.ndarray, params: np.ndarray, threshold: float | Sequence[float] = 0.5) -> Diagnosis:
    """A `Diagnosis` from a model's presence probabilities, severities / 100 and normalised params.

    `threshold` is one presence cut-off, or one per degradation (fog, shake, rain, noise).
    """
    limits = np.broadcast_to(np.asarray(threshold, np.float64), (len(DEGRADATIONS),))
    findings = {}
    for i, name in enumerate(DEGRADATIONS):
        if presence[i] < limits[i]:
            findings[name] = Finding()
            continue
        start = param_offset(name) - 2 * len(DEGRADATIONS)
        raw = {slot: float(params[start + j]) / _SCALE.get((name, slot), 1.0) for j, slot in enumerate(PARAM_SLOTS[name])}
        findings[name] = Finding(True, float(np.clip(severities[i] * 100.0, 1.0, 100.0)), _contract_params(name, raw))
    return Diagnosis(**findings)


def _contract_params(name: str, raw: dict[str, float]) -> dict:
    if name == "fog":
        light = [float(np.clip(raw[c], 0, 1)) for c in ("light_r", "light_g", "light_b")]
        return {"atmospheric_light": light, "beta": max(raw["beta"], 0.0), "t_mean": float(np.clip(raw["t_mean"], 0.05, 1))}
    if name == "shake":
        direction = math.degrees(math.atan2(raw["dir_sin"], raw["dir_cos"])) / 2 % 180.0
        size = max(3, int(round(raw["kernel_size"])) | 1)
        return {"direction_deg": direction, "length_px": max(raw["length_px"], 0.0), "energy": max(raw["energy"], 0.0), "kernel_size": size}
    if name == "rain":
        return {
            "density": max(raw["density"], 0.0), "slant_deg": raw["slant_deg"], "length_px": max(raw["length_px"], 1.0),
            "width_px": max(raw["width_px"], 1.0), "opacity": float(np.clip(raw["opacity"], 0, 1)),
        }
    return {"k": raw["k"], "b": raw["b"], "sigma_mean": max(raw["sigma_mean"], 0.0)}
