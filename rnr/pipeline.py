"""Reason, then restore: load any reasoner and any restorer by name, and explain a diagnosis in words.

Names: "lite" is the compact model shipped in the package; "classical" (restorers only)
the conventional, physics-inverting restorer of `restorer.classical`; a `.safetensors` file is a
lite model trained by `rnr-train --backend lite`; anything else is a Qwen model (hub id
or folder): a Qwen3-VL reasoner (base, adapter or rnr-train output), or a Qwen-Image-Edit
restorer (base, or an rnr-train restorer output that names its base). Any reasoner can
drive any restorer: they meet at the `Diagnosis`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnr.diagnosis import Diagnosis
from rnr.hedge import Hedge, hedged_restore
from rnr.schema import BY_NAME

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


def explain(diagnosis: Diagnosis, hedge: Hedge | None = None) -> str:
    """The diagnosis for a person: all four degradations, each with its severity and its parameters in words.

    Absent ones say "none found", so "no shake" reads apart from "shake not checked". A `hedge`
    adds to its degradation's line how sure the reasoner was and how much of the correction was applied.

    >>> shaken = Diagnosis.parse("Motion blur: Yes (35.9/100)\\n- Motion blur: direction 143.2, length 2.72, kernel size 17")
    >>> print(explain(shaken.diagnosis))
      Fog: none found
      Camera shake: severity 36/100 — smeared along 143° from horizontal by about 2.7 px (within a 17 px kernel)
      Rain streaks: none found
      Sensor noise: none found
    """
    lines = [f"  {label}: " + (NONE_FOUND if severity is None else _severity_line(severity, words)) for label, severity, words in in_words(diagnosis)]
    if hedge is not None and hedge.blends:
        index = list(diagnosis.findings()).index(hedge.kind)
        lines[index] += f"; the reasoner is {hedge.probability:.0%} sure there is some: corrected at {hedge.weight:.0%} strength"
    if diagnosis.scene:
        lines.append(f"  Scene: {diagnosis.scene}")
    return "\n".join(lines)


def in_words(diagnosis: Diagnosis) -> list[tuple[str, float | None, list[str]]]:
    """(label, severity or None when absent, its parameters as phrases) for fog, shake, rain and noise, in that order."""
    return [
        (BY_NAME[name].plain, finding.severity if finding.present else None, BY_NAME[name].words(finding.params) if finding.present else [])
        for name, finding in diagnosis.findings().items()
    ]


def _severity_line(severity: float, words: list[str]) -> str:
    return f"severity {severity:.0f}/100" + (" — " + "; ".join(words) if words else "")


def reason_and_restore(image: Any, reasoner: Any, restorer: Any, name: str | None = None) -> tuple[Diagnosis, Any, Hedge | None]:
    """One photo: the reasoner's diagnosis, then the restorer's result guided by it; with the `Hedge` it blended (`rnr.hedge`)."""
    diagnosis, hedge = reasoner.diagnose_hedged([image], names=[name] if name else None)[0]
    return diagnosis, hedged_restore(restorer, image, diagnosis, hedge), hedge


def caption(diagnosis: Diagnosis, reasoner: str, restorer: str, hedge: Hedge | None = None) -> str:
    """The side-by-side's caption: the explanation, then who diagnosed and who restored."""
    lines = [line.strip() for line in explain(diagnosis, hedge).splitlines()]
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
