"""Reason, then restore: load any reasoner and any restorer by name, and explain a diagnosis in words.

Names: "lite" is the compact model shipped in the package; "classical" (restorers only)
the conventional, physics-inverting restorer of `restorer.classical`; a `.safetensors` file is a
lite model trained by `rnr-train --backend lite`; anything else is a Qwen model (hub id
or folder): a Qwen3-VL reasoner (base, adapter or rnr-train output), or a Qwen-Image-Edit
restorer (base, or an rnr-train restorer output that names its base). Any reasoner can
drive any restorer: they meet at the `Diagnosis`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

from rnr.diagnosis import Diagnosis

LITE = "lite"
CLASSICAL = "classical"  # the conventional restorer driven by the diagnosed parameters (no weights)


def load_reasoner(name: str = LITE, device: str = "auto"):
    from reasoner.lite import LiteReasoner

    if name == LITE:
        return LiteReasoner.load()
    if Path(name).suffix == ".safetensors":
        return LiteReasoner.load(name)
    from reasoner.qwen import QwenReasoner

    return QwenReasoner.from_pretrained(name, device=device)


def load_restorer(name: str = LITE, device: str = "auto", tile: int | None = None, **qwen_options: Any):
    """`qwen_options` (steps, max_pixels, guidance, ...) go to `QwenEditRestorer.from_pretrained`."""
    from restorer.lite import LiteRestorer

    if name == CLASSICAL:
        from restorer.classical import ClassicalRestorer

        return ClassicalRestorer()
    options = {"tile": tile} if tile else {}
    if name == LITE:
        return LiteRestorer.load(**options)
    if Path(name).suffix == ".safetensors":
        return LiteRestorer.load(name, **options)
    from restorer.qwen import QwenEditRestorer, resolve_restorer_path

    base, lora = resolve_restorer_path(name)
    return QwenEditRestorer.from_pretrained(base, lora=lora, device=device, **qwen_options)


NONE_FOUND = "none found"
LABELS = {"fog": "Fog", "shake": "Camera shake", "rain": "Rain streaks", "noise": "Sensor noise"}


def explain(diagnosis: Diagnosis) -> str:
    """The diagnosis for a person: all four degradations, each with its severity and its parameters in words.

    Absent ones say "none found", so "no shake" reads apart from "shake not checked".

    >>> from rnr.diagnosis import Finding
    >>> print(explain(Diagnosis(shake=Finding(True, 35.9, {"direction_deg": 143.2, "length_px": 2.72, "kernel_size": 17}))))
      Fog: none found
      Camera shake: severity 36/100 — smeared along 143° from horizontal by about 2.7 px (within a 17 px kernel)
      Rain streaks: none found
      Sensor noise: none found
    """
    lines = [f"  {label}: " + (NONE_FOUND if severity is None else _severity_line(severity, words)) for label, severity, words in in_words(diagnosis)]
    if diagnosis.scene:
        lines.append(f"  Scene: {diagnosis.scene}")
    return "\n".join(lines)


def in_words(diagnosis: Diagnosis) -> list[tuple[str, float | None, list[str]]]:
    """(label, severity or None when absent, its parameters as phrases) for fog, shake, rain and noise, in that order."""
    words = {"fog": _fog_words, "shake": _shake_words, "rain": _rain_words, "noise": _noise_words}
    return [
        (LABELS[name], finding.severity if finding.present else None, words[name](finding.params) if finding.present else [])
        for name, finding in diagnosis.findings().items()
    ]


def _severity_line(severity: float, words: list[str]) -> str:
    return f"severity {severity:.0f}/100" + (" — " + "; ".join(words) if words else "")


def _fog_words(p: Mapping[str, Any]) -> list[str]:
    detail = []
    if "t_mean" in p:
        detail.append(f"the scene keeps about {p['t_mean']:.0%} of its light on average")
    if "atmospheric_light" in p:
        detail.append("haze colour (r, g, b) " + ", ".join(f"{c:.2f}" for c in p["atmospheric_light"]) + " of white")
    if "beta" in p:  # t = exp(-beta * depth), depth 0 (near) to 1 (far): beta says what the farthest point keeps
        detail.append(f"haze density {p['beta']:.2f} (the farthest point keeps {math.exp(-p['beta']):.0%} of its light)")
    return detail


def _shake_words(p: Mapping[str, Any]) -> list[str]:
    along = f" along {p['direction_deg']:.0f}° from horizontal" if "direction_deg" in p else ""
    by = f" by about {p['length_px']:.1f} px" if "length_px" in p else ""
    kernel = f" (within a {p['kernel_size']} px kernel)" if "kernel_size" in p else ""
    return [f"smeared{along}{by}{kernel}"] if along or by or kernel else []


def _rain_words(p: Mapping[str, Any]) -> list[str]:
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


def _noise_words(p: Mapping[str, Any]) -> list[str]:
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


def reason_and_restore(image: Any, reasoner: Any, restorer: Any, name: str | None = None) -> tuple[Diagnosis, Any]:
    """One photo: the reasoner's diagnosis, then the restorer's result guided by it."""
    diagnosis = reasoner.diagnose([image], names=[name] if name else None)[0]
    return diagnosis, restorer.restore([image], [diagnosis])[0]


def caption(diagnosis: Diagnosis, reasoner: str, restorer: str) -> str:
    """The side-by-side's caption: the explanation, then who diagnosed and who restored."""
    lines = [line.strip() for line in explain(diagnosis).splitlines()]
    return "\n".join(lines + [f"Diagnosed by {reasoner}, restored by {restorer}."])


PANEL_LABELS = ("input", "restored")
FONT = 0  # cv2.FONT_HERSHEY_SIMPLEX, without importing cv2 at module import
GAP = 8
CONTINUATION = "    "  # a wrapped line's indent, so it reads as the same degradation


def side_by_side(original: Any, restored: Any, caption: str, labels: tuple[str, str] = PANEL_LABELS):
    """input | restored, each panel labelled above, the caption wrapped under them (uint8 RGB)."""
    import numpy as np

    from rnr.imageio import to_uint8

    left, right = to_uint8(np.asarray(original)), to_uint8(np.asarray(restored))
    gap = np.full((left.shape[0], GAP, 3), 255, np.uint8)
    top = np.concatenate([left, gap, right], axis=1)
    scale = max(0.4, top.shape[1] / 1600)
    header = _text_band([[(GAP, labels[0]), (left.shape[1] + 2 * GAP, labels[1])]], top.shape[1], scale)
    band = _text_band([[(GAP, line)] for line in wrap_text(caption, top.shape[1] - 2 * GAP, scale)], top.shape[1], scale)
    return np.concatenate([header, top, band], axis=0)


def _text_band(rows: list[list[tuple[int, str]]], width: int, scale: float):
    """A white band `width` wide with one line of text per row, each piece at its x (uint8 RGB)."""
    import cv2
    import numpy as np

    height = int(22 * scale / 0.5)
    band = np.full((height * len(rows) + GAP, width, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for x, text in row:
            cv2.putText(band, text, (x, height * (i + 1)), FONT, scale, (20, 20, 20), 1, cv2.LINE_AA)
    return band


def wrap_text(text: str, width: int, scale: float) -> list[str]:
    """Greedy wrap to `width` pixels: whole phrases (split after "; " and " — ") where they fit, else words.

    >>> wrap_text("Fog: severity 57/100 — haze density 1.88 (the farthest point keeps 15% of its light)", 420, 0.5)
    ['Fog: severity 57/100 —', '    haze density 1.88 (the farthest point keeps 15% of its', '    light)']
    """
    import re

    import cv2

    def fits(line: str) -> bool:
        return cv2.getTextSize(line.rstrip(), FONT, scale, 1)[0][0] <= width

    lines = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for phrase in re.split(r"(?<=; )|(?<= — )", paragraph):
            if not fits(line + phrase) and line.strip():
                lines.append(line.rstrip())
                line = CONTINUATION
            if fits(line + phrase):
                line += phrase
                continue
            for word in re.split(r"(?<= )", phrase):  # a phrase wider than a whole line: word by word
                if not fits(line + word) and line.strip():
                    lines.append(line.rstrip())
                    line = CONTINUATION
                line += word
        lines.append(line.rstrip())
    return lines
