"""rnr-synth's rows: a sample's PNGs, its typed `datasets` columns and its trl conversation."""

from __future__ import annotations

import json
from typing import Any

from degradations.compose import ORDER, Sample
from rnr.diagnosis import Diagnosis
from rnr.imageio import encode_png


def hf_features():
    from datasets import Features, Image, List, Value

    f64, text, flag = Value("float64"), Value("string"), Value("bool")
    message = {"role": text, "content": text}
    return Features(
        {
            "index": Value("int64"),
            "seed": Value("int64"),
            "source": text,
            "crop": List(Value("int32")),
            "upscaled": flag,
            "clean": Image(),
            "degraded": Image(),
            **{f"after_{name}": Image() for name in ORDER},
            "is_clean": flag,
            "fog_present": flag,
            "fog_severity": f64,
            "fog_atmospheric_light": List(f64),
            "fog_beta": f64,
            "fog_t_mean": f64,
            "depth_source": text,
            "shake_present": flag,
            "shake_severity": f64,
            "shake_direction_deg": f64,
            "shake_length_px": f64,
            "shake_energy": f64,
            "shake_kernel_size": Value("int32"),
            "shake_kernel": List(List(Value("float32"))),
            "rain_present": flag,
            "rain_severity": f64,
            "rain_density": f64,
            "rain_slant_deg": f64,
            "rain_length_px": f64,
            "rain_width_px": f64,
            "rain_opacity": f64,
            "rain_color": List(f64),
            "rain_coverage": f64,
            "noise_present": flag,
            "noise_severity": f64,
            "noise_k": f64,
            "noise_b": f64,
            "noise_sigma_mean": f64,
            "scene": text,
            "diagnosis": text,
            "record": text,
            "images": List(Image()),
            "prompt": List(message),
            "completion": List(message),
        }
    )


_RECORD_COLUMNS = {
    "fog": ("atmospheric_light", "beta", "t_mean"),
    "shake": ("direction_deg", "length_px", "energy", "kernel_size", "kernel"),
    "rain": ("density", "slant_deg", "length_px", "width_px", "opacity", "color", "coverage"),
    "noise": ("k", "b", "sigma_mean"),
}


def record_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The record flattened to typed columns (None where a degradation is absent)."""
    columns: dict[str, Any] = {"is_clean": record["clean"], "depth_source": record["fog"].get("depth_source")}
    for name, keys in _RECORD_COLUMNS.items():
        entry = record[name]
        columns[f"{name}_present"] = entry["present"]
        columns[f"{name}_severity"] = entry["severity"]
        for key in keys:
            columns[f"{name}_{key}"] = entry["params"].get(key)
    return columns


def conversation(diagnosis_text: str) -> dict[str, Any]:
    """trl's conversational prompt/completion columns; trl inserts the image placeholder."""
    from reasoner.prompts import DIAGNOSIS_PROMPT

    return {
        "prompt": [{"role": "user", "content": DIAGNOSIS_PROMPT}],
        "completion": [{"role": "assistant", "content": diagnosis_text}],
    }


def encode_sample(sample: Sample, stages: bool) -> dict[str, bytes]:
    """PNG bytes of clean, degraded and (optionally) every present stage, each encoded once."""
    degraded = encode_png(sample.degraded)
    encoded = {"clean": encode_png(sample.clean), "degraded": degraded}
    if stages:
        for name, image in sample.stages.items():
            # the last present stage is the degraded image itself
            encoded[f"after_{name}"] = degraded if image is sample.degraded else encode_png(image)
    return encoded


def hf_row(sample: Sample, record: dict[str, Any], encoded: dict[str, bytes]) -> dict[str, Any]:
    def image(key: str) -> dict[str, Any] | None:
        return {"bytes": encoded[key], "path": None} if key in encoded else None

    text = Diagnosis.from_record(record).render()
    return {
        "index": record["index"],
        "seed": record["seed"],
        "source": record["source"],
        "crop": record["crop"],
        "upscaled": record["upscaled"],
        "clean": image("clean"),
        "degraded": image("degraded"),
        **{f"after_{name}": image(f"after_{name}") for name in ORDER},
        **record_columns(record),
        "scene": record["scene"],
        "diagnosis": text,
        "record": json.dumps(record),
        "images": [image("degraded")],
        **conversation(text),
    }


def image_filename(index: int, key: str) -> str:
    return f"images/{index:07d}_{key}.png"
