"""The parameter schema: each degradation and its parameters, declared once.

Everything that names a parameter is derived from `SCHEMA`: the `Diagnosis` text (labels,
decimals, units) and its parser (aliases), the lite models' vector (`rnr.encoding`: slots,
scales, the bounds a decoded value is clipped to), the dataset's typed columns
(`column_types`, `column_values`), the records `degradations.compose` writes
(`record_params`, the severity's inputs) and the accuracy metrics (`axial` angles).
Adding a parameter is one `Parameter` here plus the code that produces it in its
degradation module. No imports beyond the standard library: the contract sits at the bottom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Parameter:
    """One physical parameter of a degradation, as the diagnosis, the vector and the dataset carry it."""

    name: str  # the key in Diagnosis params and records; the column is "<degradation>_<name>"
    label: str  # how the canonical text names it
    decimals: int  # digits the text prints and the Diagnosis keeps (0: an integer)
    aliases: str  # regular expression the parser reads as this parameter (case-insensitive)
    plain: str  # what it is, in words for people (docs, explain)
    unit: str = ""  # "deg", "px", or "" for a pure number
    size: int = 1  # 3 for an (r, g, b) triple
    axial: bool = False  # an angle modulo 180°: 179° is 1° from 0°
    odd: bool = False  # an odd integer (a kernel's side)
    slots: tuple[str, ...] = ()  # its entries in the encoding vector; () means one slot named as the parameter
    scale: float = 1.0  # vector entry = value · scale, so the network sees numbers near [0, 1]
    bounds: tuple[float | None, float | None] = (None, None)  # a decoded value is clipped into these

    @property
    def vector_slots(self) -> tuple[str, ...]:
        return self.slots or (self.name,)

    def clipped(self, value):
        """`value` made valid: an odd integer where the parameter is one, then held within `bounds`.

        >>> SHAKE.parameter("kernel_size").clipped(1.2), FOG.parameter("t_mean").clipped(0.01)
        (3, 0.05)
        """
        if self.odd:
            value = int(round(value)) | 1
        low, high = self.bounds
        if low is not None:
            value = max(value, low)
        if high is not None:
            value = min(value, high)
        return value

    @property
    def column_type(self) -> str:
        """The dataset column's type: a datasets Value dtype, "[]" for a list of them."""
        if self.size > 1:
            return "float64[]"
        return "int32" if self.decimals == 0 else "float64"


@dataclass(frozen=True)
class Extra:
    """A value a record keeps beyond the diagnosis (to replay or audit a sample)."""

    name: str
    column_type: str | None  # None: in the record's JSON only, no column of its own


@dataclass(frozen=True)
class Degradation:
    name: str
    presence_label: str  # the canonical presence line: "<presence_label>: Yes (55.9/100)"
    params_label: str  # the canonical parameter line: "- <params_label>: ..."
    plain: str  # the degradation in words for people
    pattern: str  # regular expression of the labels the parser reads as this degradation
    params: tuple[Parameter, ...]
    extras: tuple[Extra, ...]
    severity_inputs: tuple[str, ...]  # the record values its severity score is computed from
    severity_formula: str  # that score, as the degradation module computes it (documentation)
    words: Callable[[Mapping[str, Any]], list[str]]  # its parameters as phrases for people (rnr.pipeline.explain)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def record_keys(self) -> tuple[str, ...]:
        return self.param_names + tuple(e.name for e in self.extras)

    def parameter(self, name: str) -> Parameter:
        return next(p for p in self.params if p.name == name)


# What `rnr.pipeline.explain` says of each present degradation's parameters: plain words with units.


def fog_words(p: Mapping[str, Any]) -> list[str]:
    detail = []
    if "t_mean" in p:
        detail.append(f"the scene keeps about {p['t_mean']:.0%} of its light on average")
    if "atmospheric_light" in p:
        detail.append("haze colour (r, g, b) " + ", ".join(f"{c:.2f}" for c in p["atmospheric_light"]) + " of white")
    if "beta" in p:  # t = exp(-beta * depth), depth 0 (near) to 1 (far): beta says what the farthest point keeps
        detail.append(f"haze density {p['beta']:.2f} (the farthest point keeps {math.exp(-p['beta']):.0%} of its light)")
    return detail


def shake_words(p: Mapping[str, Any]) -> list[str]:
    along = f" along {p['direction_deg']:.0f}° from horizontal" if "direction_deg" in p else ""
    by = f" by about {p['length_px']:.1f} px" if "length_px" in p else ""
    kernel = f" (within a {p['kernel_size']} px kernel)" if "kernel_size" in p else ""
    return [f"smeared{along}{by}{kernel}"] if along or by or kernel else []


def rain_words(p: Mapping[str, Any]) -> list[str]:
    detail = []
    if "density" in p:
        detail.append(f"{p['density'] * 10000:.0f} streaks per 10,000 px")
    if "slant_deg" in p:  # positive: the streaks lean right at the bottom (degradations.rain)
        detail.append(f"leaning {abs(p['slant_deg']):.0f}° {'right' if p['slant_deg'] >= 0 else 'left'} of vertical")
    if "length_px" in p and "width_px" in p:
        detail.append(f"{p['length_px']:.0f} px long, {p['width_px']:.1f} px wide")
    if "opacity" in p:
        detail.append(f"{p['opacity']:.0%} opaque")
    return detail


def noise_words(p: Mapping[str, Any]) -> list[str]:
    detail = []
    if "sigma_mean" in p:
        detail.append(f"typical deviation {p['sigma_mean'] * 255:.1f} of 255 levels")
    if "k" in p and "b" in p:  # sigma(level) = k * level + b on 0-255 levels, floored at 0 (degradations.noise)
        black, white = max(p["b"], 0.0), max(p["k"] * 255 + p["b"], 0.0)
        if abs(white - black) < 0.05:
            detail.append(f"the same at every brightness ({black:.1f} levels)")
        else:
            trend = "grows" if white > black else "shrinks"
            detail.append(f"noise {trend} with brightness, from {black:.1f} levels in black to {white:.1f} in white")
    return detail


FOG = Degradation(
    name="fog",
    presence_label="Fog degradation",
    params_label="Fog",
    plain="Fog",
    pattern=r"fog(?:\s+degradation)?|haze",
    params=(
        Parameter("atmospheric_light", "atmospheric light", 3, r"atmospheric[\s_]+light|airlight|air\s+light",
                  "haze colour (r, g, b)", size=3, slots=("light_r", "light_g", "light_b"), bounds=(0.0, 1.0)),
        Parameter("beta", "beta", 3, r"beta|β|scattering(?:\s+coefficient)?", "scattering coefficient β",
                  scale=1 / 3, bounds=(0.0, None)),
        Parameter("t_mean", "mean transmission", 3, r"mean\s+transmission|t_mean|transmission(?:\s+mean)?",
                  "share of the scene's light that gets through, on average", bounds=(0.05, 1.0)),
    ),
    extras=(),
    severity_inputs=("t_mean",),
    severity_formula="(1 − t_mean) / (1 − 0.05) · 99 + 1",
    words=fog_words,
)
SHAKE = Degradation(
    name="shake",
    presence_label="Motion blur",
    params_label="Motion blur",
    plain="Camera shake",
    pattern=r"motion\s+blur|camera\s+shake|shake|blur",
    params=(
        Parameter("direction_deg", "direction", 1, r"direction(?:_deg)?|angle", "direction of the smear from horizontal",
                  unit="deg", axial=True, slots=("dir_sin", "dir_cos")),
        Parameter("length_px", "length", 2, r"(?:effective\s+)?length(?:_px)?", "effective length of the smear",
                  unit="px", scale=1 / 10, bounds=(0.0, None)),
        Parameter("energy", "energy", 4, r"energy", "kernel energy (1 for a sharp photo, lower as it spreads)",
                  bounds=(0.0, None)),
        Parameter("kernel_size", "kernel size", 0, r"kernel[\s_]+size|size", "side of the blur kernel (odd)",
                  unit="px", odd=True, scale=1 / 31, bounds=(3, None)),
    ),
    extras=(Extra("r_rms", None), Extra("kernel", "float32[][]")),
    severity_inputs=("r_rms", "kernel_size"),
    severity_formula="r_rms / ((kernel_size − 1) / 2) · 99 + 1",
    words=shake_words,
)
RAIN = Degradation(
    name="rain",
    presence_label="Rain streaks",
    params_label="Rain streaks",
    plain="Rain streaks",
    pattern=r"rain(?:\s+streaks?)?",
    params=(
        Parameter("density", "density", 5, r"density", "streaks per pixel", scale=200.0, bounds=(0.0, None)),
        Parameter("slant_deg", "slant", 1, r"slant(?:_deg)?|angle", "slant from vertical (positive: to the right)",
                  unit="deg", scale=1 / 30),
        Parameter("length_px", "length", 1, r"length(?:_px)?", "streak length", unit="px", scale=1 / 40, bounds=(1.0, None)),
        Parameter("width_px", "width", 2, r"width(?:_px)?", "streak width", unit="px", scale=1 / 3, bounds=(1.0, None)),
        Parameter("opacity", "opacity", 3, r"opacity|alpha", "streak opacity", bounds=(0.0, 1.0)),
    ),
    extras=(Extra("color", "float64[]"), Extra("seed", None), Extra("coverage", "float64")),
    severity_inputs=("coverage",),
    severity_formula="coverage · 99 + 1",
    words=rain_words,
)
NOISE = Degradation(
    name="noise",
    presence_label="Gaussian noise",
    params_label="Gaussian noise",
    plain="Sensor noise",
    pattern=r"(?:gaussian\s+|sensor\s+|read-?out\s+)?noise",
    params=(
        Parameter("k", "k", 4, r"k", "growth of σ with brightness (per 8-bit level)", scale=1 / 0.3),
        Parameter("b", "b", 2, r"b", "σ at black, in 8-bit levels", scale=1 / 20),
        Parameter("sigma_mean", "mean sigma", 4, r"mean\s+sigma|sigma_mean|σ̄|sigma", "mean σ on the [0, 1] scale",
                  scale=10.0, bounds=(0.0, None)),
    ),
    extras=(Extra("seed", None),),
    severity_inputs=("sigma_mean",),
    severity_formula="sigma_mean / 0.05 · 99 + 1",
    words=noise_words,
)

SCHEMA: tuple[Degradation, ...] = (FOG, SHAKE, RAIN, NOISE)  # the order of the text, the vector and the columns
BY_NAME: dict[str, Degradation] = {d.name: d for d in SCHEMA}
DEGRADATIONS: tuple[str, ...] = tuple(d.name for d in SCHEMA)


def record_params(name: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A record's params in schema order, JSON-able (tuples as lists); refuses a missing value."""
    keys = BY_NAME[name].record_keys
    missing = [key for key in keys if key not in values]
    if missing:
        raise ValueError(f"{name}: no value for {', '.join(missing)}; the schema's record needs {list(keys)}")
    return {key: list(values[key]) if isinstance(values[key], tuple) else values[key] for key in keys}


def column_types(name: str) -> dict[str, str]:
    """The dataset columns of one degradation and their types, in column order."""
    spec = BY_NAME[name]
    types = {f"{name}_present": "bool", f"{name}_severity": "float64"}
    types.update({f"{name}_{p.name}": p.column_type for p in spec.params})
    types.update({f"{name}_{e.name}": e.column_type for e in spec.extras if e.column_type})
    return types


def column_values(name: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """One degradation's record entry as its columns (None where absent)."""
    spec = BY_NAME[name]
    kept = spec.param_names + tuple(e.name for e in spec.extras if e.column_type)
    columns = {f"{name}_present": entry["present"], f"{name}_severity": entry["severity"]}
    columns.update({f"{name}_{key}": entry["params"].get(key) for key in kept})
    return columns
