"""Diagnoses with controlled errors: how robust a restorer is to its reasoner's mistakes.

Each `Perturbation` turns the ground-truth diagnosis of a sample into a wrong one of a
known kind and size, so `rnr-eval --perturb` can draw PSNR against diagnosis error:

- **severity ±N**: every present degradation's severity moved by N points, clipped to
  [1, 100]; presence and parameters untouched;
- **parameters ±20%**: every parameter off by 20%, in a direction drawn per parameter:
  numbers scaled by 1 ± 0.2, angles (shake direction, rain slant) turned by ±0.2·90°
  (a relative error of an angle would depend on where zero is), then kept valid by the
  schema (`rnr.schema.Parameter.clipped`: its bounds, odd sizes odd);
- **one presence flipped**: one of the four degradations drawn at random; present
  becomes absent; absent becomes present with the severity and parameters that
  degradation has in another sample of the set, drawn at random (50 and no parameters
  when no sample has it).

Each sample draws from its own generator, seeded by (seed, kind, sample index), so the
same set and seed give the same diagnoses whatever other rows run; only a flipped-on
degradation's donor depends on the rest of the set (it is drawn from it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from rnr.diagnosis import DEGRADATIONS, Diagnosis, Finding
from rnr.schema import BY_NAME

KINDS = ("severity", "parameters", "presence")
QUARTER_TURN = 90.0  # what a 100% error of an angle is
FLIPPED_SEVERITY = 50.0  # a degradation called present that no sample of the set has: the parser's default score


@dataclass(frozen=True)
class Perturbation:
    """One kind of diagnosis error and its size (severity points, parameter percent, or degradations flipped)."""

    kind: str
    size: float

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown perturbation {self.kind!r}; known: {', '.join(KINDS)}")

    @property
    def label(self) -> str:
        """The table row's name.

        >>> Perturbation("severity", -25).label, Perturbation("parameters", 20).label, Perturbation("presence", 1).label
        ('severity −25', 'parameters ±20%', 'one presence flipped')
        """
        if self.kind == "severity":
            return f"severity {'+' if self.size > 0 else '−'}{abs(self.size):g}"
        if self.kind == "parameters":
            return f"parameters ±{self.size:g}%"
        return "one presence flipped"

    def as_dict(self) -> dict:
        return {"kind": self.kind, "size": self.size, "label": self.label}


PERTURBATIONS = (
    Perturbation("severity", -25), Perturbation("severity", -10), Perturbation("severity", 10), Perturbation("severity", 25),
    Perturbation("parameters", 20), Perturbation("presence", 1),
)


def perturbed(truth: Sequence[Diagnosis], perturbation: Perturbation, seed: int = 0) -> list[Diagnosis]:
    """`truth` with `perturbation` applied to every sample, reproducibly from `seed`."""
    kind = KINDS.index(perturbation.kind)
    out = []
    for index, diagnosis in enumerate(truth):
        rng = np.random.default_rng((seed, kind, index))
        if perturbation.kind == "severity":
            out.append(shift_severities(diagnosis, perturbation.size))
        elif perturbation.kind == "parameters":
            out.append(scale_parameters(diagnosis, perturbation.size / 100.0, rng))
        else:
            donors = [d for j, d in enumerate(truth) if j != index]
            out.append(flip_presence(diagnosis, rng, donors))
    return out


def shift_severities(diagnosis: Diagnosis, points: float) -> Diagnosis:
    """Every present degradation's severity moved by `points`, kept in [1, 100].

    >>> d = Diagnosis(fog=Finding(True, 90.0, {"beta": 2.0}))
    >>> shift_severities(d, 25).fog, shift_severities(d, -25).fog.severity
    (Finding(present=True, severity=100.0, params={'beta': 2.0}), 65.0)
    """
    findings = {name: replace(f, severity=float(np.clip(f.severity + points, 1.0, 100.0)))
                for name, f in diagnosis.findings().items() if f.present}
    return replace(diagnosis, **findings)


def scale_parameters(diagnosis: Diagnosis, share: float, rng: np.random.Generator) -> Diagnosis:
    """Every parameter off by `share` (0.2: 20%), each in a direction drawn from `rng`."""
    findings = {}
    for name, finding in diagnosis.findings().items():
        if finding.present:
            params = {key: _off(name, key, value, share, rng) for key, value in finding.params.items()}
            findings[name] = replace(finding, params=params)
    return replace(diagnosis, **findings)


def _off(name: str, key: str, value, share: float, rng: np.random.Generator):
    """One parameter off by `share` as its schema entry says: angles turned, numbers scaled, then made valid."""
    param = BY_NAME[name].parameter(key)
    if param.size > 1:  # the atmospheric light, per channel
        return tuple(float(param.clipped(v * (1 + share * rng.choice((-1, 1))))) for v in value)
    sign = float(rng.choice((-1, 1)))
    if param.unit == "deg":
        turned = float(value) + sign * share * QUARTER_TURN
        return turned % 180.0 if param.axial else turned
    scaled = param.clipped(float(value) * (1 + sign * share))
    return scaled if param.odd else float(scaled)


def flip_presence(diagnosis: Diagnosis, rng: np.random.Generator, donors: Sequence[Diagnosis]) -> Diagnosis:
    """One degradation, drawn from `rng`, said absent if present and present if absent (as in a donor sample)."""
    name = DEGRADATIONS[int(rng.integers(len(DEGRADATIONS)))]
    if getattr(diagnosis, name).present:
        return replace(diagnosis, **{name: Finding()})
    having = [getattr(d, name) for d in donors if getattr(d, name).present]
    finding = having[int(rng.integers(len(having)))] if having else Finding(True, FLIPPED_SEVERITY)
    return replace(diagnosis, **{name: finding})
