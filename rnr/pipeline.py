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


def explain(diagnosis: Diagnosis) -> str:
    """The diagnosis for a person: each degradation with its severity and parameters in words."""
    lines = []
    fog, shake, rain, noise = diagnosis.fog, diagnosis.shake, diagnosis.rain, diagnosis.noise
    if fog.present:
        p = fog.params
        detail = []
        if "t_mean" in p:
            detail.append(f"the scene keeps about {p['t_mean']:.0%} of its light on average")
        if "atmospheric_light" in p:
            detail.append("haze colour (r, g, b) " + ", ".join(f"{c:.2f}" for c in p["atmospheric_light"]))
        if "beta" in p:
            detail.append(f"scattering β {p['beta']:.2f}")
        lines.append(_line("Fog", fog.severity, detail))
    if shake.present:
        p = shake.params
        detail = []
        if "direction_deg" in p:
            detail.append(f"smeared along {p['direction_deg']:.0f}° from horizontal")
        if "length_px" in p:
            detail.append(f"effective length {p['length_px']:.1f} px")
        if "kernel_size" in p:
            detail.append(f"within a {p['kernel_size']} px kernel")
        lines.append(_line("Camera shake", shake.severity, detail))
    if rain.present:
        p = rain.params
        detail = []
        if "density" in p:
            detail.append(f"{p['density'] * 10000:.0f} streaks per 10,000 px")
        if "slant_deg" in p:
            detail.append(f"slanted {abs(p['slant_deg']):.0f}° {'right' if p['slant_deg'] >= 0 else 'left'} of vertical")
        if "length_px" in p and "width_px" in p:
            detail.append(f"{p['length_px']:.0f} px long, {p['width_px']:.1f} px wide")
        if "opacity" in p:
            detail.append(f"opacity {p['opacity']:.0%}")
        lines.append(_line("Rain streaks", rain.severity, detail))
    if noise.present:
        p = noise.params
        detail = []
        if "sigma_mean" in p:
            detail.append(f"mean σ {p['sigma_mean'] * 255:.1f} of 255 levels")
        if "k" in p and "b" in p:
            detail.append(f"σ grows with brightness as {p['k']:.3f}·level {'+' if p['b'] >= 0 else '−'} {abs(p['b']):.1f}")
        lines.append(_line("Sensor noise", noise.severity, detail))
    if not lines:
        lines.append("  No degradation found: the photo looks clean.")
    if diagnosis.scene:
        lines.append(f"  Scene: {diagnosis.scene}")
    return "\n".join(lines)


def _line(label: str, severity: float, detail: list[str]) -> str:
    text = f"  {label}: severity {severity:.0f}/100"
    return text + (" — " + "; ".join(detail) if detail else "")


def side_by_side(original: Any, restored: Any, caption: str):
    """input | restored, with the caption written under them (uint8 RGB)."""
    import cv2
    import numpy as np

    from rnr.imageio import to_uint8

    left, right = to_uint8(np.asarray(original)), to_uint8(np.asarray(restored))
    gap = np.full((left.shape[0], 8, 3), 255, np.uint8)
    top = np.concatenate([left, gap, right], axis=1)
    scale = max(0.4, top.shape[1] / 1600)
    lines = _wrap(caption, top.shape[1] - 16, scale)
    height = int(22 * scale / 0.5)
    band = np.full((height * len(lines) + 8, top.shape[1], 3), 255, np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(band, line, (8, height * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, scale, (20, 20, 20), 1, cv2.LINE_AA)
    return np.concatenate([top, band], axis=0)


def _wrap(text: str, width: int, scale: float) -> list[str]:
    """Greedy word wrap to `width` pixels in OpenCV's plain font."""
    import cv2

    lines = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            if line and cv2.getTextSize(trial, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] > width:
                lines.append(line)
                line = "  " + word
            else:
                line = trial
        lines.append(line)
    return lines
