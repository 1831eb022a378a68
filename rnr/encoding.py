"""A `Diagnosis` as a fixed-length vector, and back: the lite models' language.

Layout (`VECTOR_SIZE` = 26): 4 presence flags, 4 severities / 100, then each parameter's
slots in `rnr.schema` order, each value times its schema `scale` (18 in all: fog's light
r, g, b, β / 3, mean transmission; shake's sin 2θ, cos 2θ, as directions are axial, ...).
Parameters of an absent degradation are 0; decoding clips each into its schema `bounds`.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from rnr.diagnosis import DEGRADATIONS, Diagnosis, Finding
from rnr.schema import BY_NAME, SCHEMA, Parameter

PARAM_SLOTS = {d.name: tuple(slot for p in d.params for slot in p.vector_slots) for d in SCHEMA}
PARAM_COUNT = sum(len(v) for v in PARAM_SLOTS.values())
VECTOR_SIZE = 2 * len(DEGRADATIONS) + PARAM_COUNT


def param_offset(name: str) -> int:
    offset = 2 * len(DEGRADATIONS)
    for other in DEGRADATIONS:
        if other == name:
            return offset
        offset += len(PARAM_SLOTS[other])
    raise KeyError(name)


def param_slot(name: str, parameter: str) -> tuple[int, float]:
    """(index of the parameter's first slot in the vector, its scale): value = vector[index] / scale."""
    slot = param_offset(name)
    for param in BY_NAME[name].params:
        if param.name == parameter:
            return slot, param.scale
        slot += len(param.vector_slots)
    raise KeyError(f"{name} has no parameter {parameter!r}")


def encode(diagnosis: Diagnosis | None) -> np.ndarray:
    """float32 [VECTOR_SIZE]; None (no reasoner) encodes as all zeros.

    >>> v = encode(Diagnosis.parse("Gaussian noise: Yes (40/100)\\n- Gaussian noise: k 0.15, b 4, mean sigma 0.02").diagnosis)
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
        slot = param_offset(name)
        for param in BY_NAME[name].params:
            if param.name in finding.params:
                for j, value in enumerate(_slot_values(param, finding.params[param.name])):
                    vector[slot + j] = value * param.scale
            slot += len(param.vector_slots)
    return vector


def _slot_values(param: Parameter, value) -> list[float]:
    if param.axial:  # sin and cos of twice the angle: continuous across 180° = 0°
        angle = math.radians(2 * float(value))
        return [math.sin(angle), math.cos(angle)]
    if param.size > 1:
        return [float(v) for v in value]
    return [float(value)]


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
        raw = [float(value) for value in params[start : start + len(PARAM_SLOTS[name])]]
        findings[name] = Finding(True, float(np.clip(severities[i] * 100.0, 1.0, 100.0)), _contract_params(name, raw))
    return Diagnosis(**findings)


def _contract_params(name: str, raw: list[float]) -> dict:
    """Slot values back to parameters, each clipped into its schema bounds."""
    params, slot = {}, 0
    for param in BY_NAME[name].params:
        values = [value / param.scale for value in raw[slot : slot + len(param.vector_slots)]]
        slot += len(param.vector_slots)
        if param.axial:
            params[param.name] = math.degrees(math.atan2(values[0], values[1])) / 2 % 180.0
        elif param.size > 1:
            params[param.name] = [param.clipped(value) for value in values]
        else:
            params[param.name] = param.clipped(values[0])
    return params
