"""The `Diagnosis`: the one structured object every reasoner emits and every restorer reads.

It mirrors the paper's structured chain of thought (appendix A.1): for each of fog,
motion blur (shake), rain streaks and sensor noise, whether it is present, a severity
in [1, 100] (0 when absent) and its physical parameters; then a short description of
the clean scene. It renders to one canonical text (the reasoner's SFT target), parses
back from text written by real models, and round-trips through JSON.

Values are canonicalised on construction (rounded to the precision the text carries),
so ``Diagnosis.parse(d.render()).diagnosis == d`` for every valid ``d``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from rnr.schema import BY_NAME, DEGRADATIONS, SCHEMA

MAX_SCENE_WORDS = 30
SEVERITY_DECIMALS = 1


class DiagnosisError(ValueError):
    """A value that cannot be part of a `Diagnosis`; the message says how to fix it."""


@dataclass(frozen=True)
class Finding:
    """One degradation's verdict: presence, severity (0 absent, 1-100 present), parameters."""

    present: bool = False
    severity: float = 0.0
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParseResult:
    """What `Diagnosis.parse` read, and a line for everything it could not read."""

    diagnosis: "Diagnosis"
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Diagnosis:
    """Presence, severity and parameters of fog, shake, rain and noise, plus the clean scene.

    >>> d = Diagnosis(fog=Finding(True, 55.93, {"beta": 1.7}), scene="A red kite over a beach")
    >>> d.fog.severity
    55.9
    >>> Diagnosis.parse(d.render()).diagnosis == d
    True
    """

    fog: Finding = field(default_factory=Finding)
    shake: Finding = field(default_factory=Finding)
    rain: Finding = field(default_factory=Finding)
    noise: Finding = field(default_factory=Finding)
    scene: str = ""

    def __post_init__(self) -> None:
        for name in DEGRADATIONS:
            object.__setattr__(self, name, _canonical_finding(name, getattr(self, name)))
        if not isinstance(self.scene, str):
            raise DiagnosisError(f"scene must be a string, got {type(self.scene).__name__}")
        scene = " ".join(self.scene.split())
        if len(scene.split()) > MAX_SCENE_WORDS:
            raise DiagnosisError(
                f"scene has {len(scene.split())} words, the limit is {MAX_SCENE_WORDS}: "
                "shorten it (rnr.diagnosis.clip_words does)"
            )
        object.__setattr__(self, "scene", scene)

    # -- views ---------------------------------------------------------------------
    def findings(self) -> dict[str, Finding]:
        return {name: getattr(self, name) for name in DEGRADATIONS}

    def severities(self) -> tuple[float, float, float, float]:
        """Severity per degradation, in `DEGRADATIONS` order (the GRPO reward reads these)."""
        return tuple(getattr(self, name).severity for name in DEGRADATIONS)  # type: ignore[return-value]

    def present(self) -> tuple[str, ...]:
        return tuple(name for name in DEGRADATIONS if getattr(self, name).present)

    @property
    def is_clean(self) -> bool:
        return not self.present()

    # -- text ----------------------------------------------------------------------
    def render(self) -> str:
        """The canonical text: presence lines, a parameters section, a clean-scene line."""
        lines = []
        for name in DEGRADATIONS:
            finding = getattr(self, name)
            verdict = "Yes" if finding.present else "No"
            lines.append(f"{BY_NAME[name].presence_label}: {verdict} ({_fmt(finding.severity, SEVERITY_DECIMALS)}/100)")
        param_lines = [_render_params(name, getattr(self, name).params) for name in DEGRADATIONS]
        param_lines = [line for line in param_lines if line]
        if param_lines:
            lines.append("Parameters:")
            lines.extend(param_lines)
        else:
            lines.append("Parameters: none")
        lines.append(f"Clean scene: {self.scene}".rstrip())
        return "\n".join(lines)

    @classmethod
    def parse(cls, text: str) -> ParseResult:
        """Read a diagnosis from model output; never raises, reports what it could not read."""
        return _parse(text)

    @classmethod
    def from_text(cls, text: str) -> "Diagnosis":
        """Strict parse: raise `DiagnosisError` listing every problem."""
        result = _parse(text)
        if result.problems:
            raise DiagnosisError("could not read the diagnosis: " + "; ".join(result.problems))
        return result.diagnosis

    # -- JSON ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in DEGRADATIONS:
            finding = getattr(self, name)
            params = {k: list(v) if isinstance(v, tuple) else v for k, v in finding.params.items()}
            out[name] = {"present": finding.present, "severity": finding.severity, "params": params}
        out["scene"] = self.scene
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Diagnosis":
        unknown = set(data) - set(DEGRADATIONS) - {"scene"}
        if unknown:
            raise DiagnosisError(f"unknown diagnosis keys {sorted(unknown)}; expected {list(DEGRADATIONS)} and 'scene'")
        kwargs: dict[str, Any] = {"scene": data.get("scene", "") or ""}
        for name in DEGRADATIONS:
            entry = data.get(name) or {}
            bad = set(entry) - {"present", "severity", "params"}
            if bad:
                raise DiagnosisError(f"{name}: unknown keys {sorted(bad)}; expected present, severity, params")
            kwargs[name] = Finding(bool(entry.get("present", False)), entry.get("severity", 0.0), entry.get("params") or {})
        return cls(**kwargs)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> "Diagnosis":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_record(cls, record: Mapping[str, Any], scene: str | None = None) -> "Diagnosis":
        """The ground-truth diagnosis of a synthesized sample (an `rnr-synth` record)."""
        kwargs: dict[str, Any] = {"scene": clip_words(record.get("scene", "") if scene is None else scene)}
        for name in DEGRADATIONS:
            entry = record[name]
            if entry["present"]:
                params = {k: entry["params"][k] for k in BY_NAME[name].param_names}
                kwargs[name] = Finding(True, entry["severity"], params)
        return cls(**kwargs)


def clip_words(text: str, limit: int = MAX_SCENE_WORDS) -> str:
    """Whitespace-normalised `text`, cut to its first `limit` words."""
    return " ".join(text.split()[:limit])


# --- canonicalisation --------------------------------------------------------------
def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _finite(name: str, key: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DiagnosisError(f"{name}.{key} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise DiagnosisError(f"{name}.{key} must be finite, got {value!r}")
    return number


def _canonical_param(name: str, key: str, value: Any) -> Any:
    param = BY_NAME[name].parameter(key)
    if param.size > 1:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != param.size:
            raise DiagnosisError(f"{name}.{key} must be {param.size} numbers [r, g, b], got {value!r}")
        return tuple(round(_finite(name, key, v), param.decimals) for v in value)
    if param.decimals == 0:
        return int(round(_finite(name, key, value)))
    return round(_finite(name, key, value), param.decimals)


def _canonical_finding(name: str, finding: Finding) -> Finding:
    if not isinstance(finding, Finding):
        raise DiagnosisError(f"{name} must be a Finding, got {type(finding).__name__}")
    severity = round(_finite(name, "severity", finding.severity), SEVERITY_DECIMALS)
    params = dict(finding.params)
    known = BY_NAME[name].param_names
    unknown = set(params) - set(known)
    if unknown:
        raise DiagnosisError(f"{name}: unknown parameters {sorted(unknown)}; known: {list(known)}")
    if not finding.present:
        if severity != 0 or params:
            raise DiagnosisError(f"{name} is absent, so its severity must be 0 and it has no params (got {severity}, {params})")
        return Finding(False, 0.0, {})
    if not 1 <= severity <= 100:
        raise DiagnosisError(f"{name} is present, so its severity must be in [1, 100], got {severity}")
    ordered = {key: _canonical_param(name, key, params[key]) for key in known if key in params}
    return Finding(True, severity, ordered)


def _render_params(name: str, params: Mapping[str, Any]) -> str:
    text = render_params(name, params)
    return f"- {BY_NAME[name].params_label}: {text}" if text else ""


def render_params(name: str, params: Mapping[str, Any]) -> str:
    """One degradation's parameters as text: 'atmospheric light [0.910, 0.880, 0.950], beta 1.720'."""
    parts = []
    for param in BY_NAME[name].params:
        if param.name not in params:
            continue
        value = params[param.name]
        if isinstance(value, tuple):
            text = "[" + ", ".join(_fmt(v, param.decimals) for v in value) + "]"
        else:
            text = _fmt(value, param.decimals)
        unit = f" {param.unit}" if param.unit else ""
        parts.append(f"{param.label} {text}{unit}")
    return ", ".join(parts)


# --- parsing -----------------------------------------------------------------------
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_BULLET = r"^\s*(?:[-*•]|\d+[.)])?\s*"
_BOLD = r"(?:\*\*|__)"  # Markdown bold around a label: "**Fog degradation**: Yes"
_LINE_START = {
    name: re.compile(_BULLET + _BOLD + r"?\s*(?:" + pattern + r")\b[^:\n]{0,40}:\s*(?P<rest>.*)$", re.I)
    for name, pattern in ((spec.name, spec.pattern) for spec in SCHEMA)
}
_VERDICT = re.compile(r"^(?P<verdict>yes|no|present|absent|true|false|none|detected|not\s+detected)\b(?P<rest>.*)$", re.I)
_SEVERITY = re.compile(r"(" + _NUM + r")\s*(?:/\s*100|%)?")
# The scene text is kept verbatim; a closing bold marker after the colon is dropped only if one opened.
_SCENE = re.compile(
    _BULLET + r"(?P<open>" + _BOLD + r")?\s*(?:clean\s+scene|scene)(?:\s+description)?\s*" + _BOLD + r"?\s*:\s*"
    r"(?(open)" + _BOLD + r"?\s*)(?P<rest>.*)$",
    re.I,
)
_PARAMS_HEADER = re.compile(_BULLET + r"(?:detailed\s+)?(?:degradation\s+)?parameters\b[^:\n]*:?\s*(?P<rest>.*)$", re.I)
_VECTOR = r"[\[(]\s*(" + _NUM + r")\s*,\s*(" + _NUM + r")\s*,\s*(" + _NUM + r")\s*[\])]"


MAX_TEXT = 20_000  # characters read of a model's output: a diagnosis is ~500; the rest is chatter
MAX_LINE = 400  # characters read of one line: keeps every pattern's backtracking bounded


def _strip_chatter(text: str) -> str:
    """Drop reasoning blocks where models write them, never inside a diagnosis line."""
    if "</think>" in text.lower():  # without a closing tag every <think> would scan to the end: quadratic
        text = re.sub(r"(?:^|\n)[ \t]*<think>.*?</think>", "\n", text, flags=re.S | re.I)
    head, closing, tail = _rpartition_ci(text, "</think>")
    # thinking templates put the opening tag in the prompt: the answer follows the closing one
    if closing and not any(_starts_with_label(line) for line in head.splitlines()):
        text = tail
    if re.match(r"\s*<think>", text, re.I) and "</think>" not in text.lower():
        return ""  # cut off while still thinking
    return text


def _rpartition_ci(text: str, separator: str) -> tuple[str, str, str]:
    index = text.lower().rfind(separator)
    if index < 0:
        return text, "", ""
    return text[:index], text[index : index + len(separator)], text[index + len(separator) :]


def _read_params(name: str, rest: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for param in BY_NAME[name].params:
        key = param.name
        head = r"(?<![A-Za-z_])(?:" + param.aliases + r")(?![A-Za-z_])\s*(?:[:=]|is)?\s*"
        if param.size == 3:
            match = re.search(head + _VECTOR, rest, re.I)
            if match and all(math.isfinite(float(match.group(i))) for i in (1, 2, 3)):
                found[key] = tuple(float(match.group(i)) for i in (1, 2, 3))
            continue
        match = re.search(head + "(" + _NUM + ")", rest, re.I)
        if match and math.isfinite(float(match.group(1))):  # "beta 1e999" reads as not given
            found[key] = float(match.group(1))
    return found


def _parse(text: str) -> ParseResult:
    problems: list[str] = []
    if not isinstance(text, str):
        return ParseResult(Diagnosis(), (f"expected text, got {type(text).__name__}",))
    if len(text) > MAX_TEXT:
        problems.append(f"output is {len(text)} characters; read the first {MAX_TEXT}")
        text = text[:MAX_TEXT]
    # Lines are read stripped and capped, so runs of spaces or digits cannot make a pattern backtrack for long.
    lines = [line.strip()[:MAX_LINE] for line in _strip_chatter(text).splitlines()]
    verdicts: dict[str, tuple[bool, float | None]] = {}
    params: dict[str, dict[str, Any]] = {}
    scene: str | None = None
    for index, line in enumerate(lines):
        if scene is None and (match := _SCENE.match(line)):
            rest = match.group("rest").strip()
            if not rest:  # some models put the description on the next line
                rest = next((n.strip() for n in lines[index + 1 :] if n.strip()), "")
            scene = rest
            continue
        if _PARAMS_HEADER.match(line) and not _starts_with_label(line):
            continue
        for name, pattern in _LINE_START.items():
            match = pattern.match(line)
            if not match:
                continue
            rest = match.group("rest")
            verdict = _VERDICT.match(rest.strip().lstrip("*_ "))
            if verdict:  # a parameter line never starts with yes/no, so order does not matter
                if name not in verdicts:
                    verdicts[name] = _read_verdict(verdict)
            elif name not in params:
                params[name] = _read_params(name, rest)
            break

    findings: dict[str, Finding] = {}
    for name in DEGRADATIONS:
        findings[name] = _finding_from_parts(name, verdicts.get(name), params.get(name, {}), problems)
    if scene is None:
        problems.append("no clean-scene line (e.g. 'Clean scene: ...'); scene left empty")
        scene = ""
    words = scene.split()
    if len(words) > MAX_SCENE_WORDS:
        problems.append(f"scene has {len(words)} words; kept the first {MAX_SCENE_WORDS}")
    return ParseResult(Diagnosis(**findings, scene=clip_words(scene)), tuple(problems))


def _starts_with_label(line: str) -> bool:
    # stripped and capped as parse reads lines: the patterns' adjacent \s* are cubic in leading blanks
    line = line.strip()[:MAX_LINE]
    return any(pattern.match(line) for pattern in _LINE_START.values())


def _read_verdict(match: re.Match) -> tuple[bool, float | None]:
    present = match.group("verdict").lower() in ("yes", "present", "true", "detected")
    number = _SEVERITY.search(match.group("rest"))
    return present, float(number.group(1)) if number else None


def _finding_from_parts(name: str, verdict, raw_params: dict[str, Any], problems: list[str]) -> Finding:
    label = BY_NAME[name].presence_label
    if verdict is None:
        problems.append(f"{name}: no presence line (e.g. '{label}: Yes (55.9/100)'); assumed absent")
        return Finding()
    present, severity = verdict
    if severity is not None and not math.isfinite(severity):
        problems.append(f"{name}: severity {severity} is not a number; assumed 50")
        severity = None if present else 0.0
    if not present:
        if severity not in (None, 0.0):
            problems.append(f"{name}: marked absent but scored {severity}; kept absent")
        if raw_params:
            problems.append(f"{name}: parameters given for an absent degradation; ignored")
        return Finding()
    if severity is None:
        problems.append(f"{name}: present but no severity score; assumed 50")
        severity = 50.0
    elif not 1 <= severity <= 100:
        problems.append(f"{name}: severity {severity} outside [1, 100]; clipped")
        severity = min(max(severity, 1.0), 100.0)
    missing = [key for key in BY_NAME[name].param_names if key not in raw_params]
    if missing:
        problems.append(f"{name}: missing parameter(s) {', '.join(missing)}")
    return Finding(True, severity, raw_params)
