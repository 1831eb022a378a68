"""rnr-synth's rows: a sample's PNGs, its typed `datasets` columns and its trl conversation."""

from __future__ import annotations

import json
from typing import Any

from degradations.compose import ORDER, Sample
from rnr.diagnosis import Diagnosis
from rnr.imageio import encode_png
from rnr.schema import DEGRADATIONS, column_types, column_values


def hf_features():
    from datasets import Features, Image, List, Value

    text, flag = Value("string"), Value("bool")
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
            **_degradation_features("fog"),
            "depth_source": text,
            **_degradation_features("shake"),
            **_degradation_features("rain"),
            **_degradation_features("noise"),
            "scene": text,
            "diagnosis": text,
            "record": text,
            "images": List(Image()),
            "prompt": List(message),
            "completion": List(message),
        }
    )


def _degradation_features(name: str) -> dict:
    """The schema's columns of one degradation as datasets features ("float64[]": a list of float64)."""
    from datasets import List, Value

    def feature(dtype: str):
        return List(feature(dtype[:-2])) if dtype.endswith("[]") else Value(dtype)

    return {column: feature(dtype) for column, dtype in column_types(name).items()}


def record_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The record flattened to typed columns (None where a degradation is absent)."""
    columns: dict[str, Any] = {"is_clean": record["clean"], "depth_source": record["fog"].get("depth_source")}
    for name in DEGRADATIONS:
        columns.update(column_values(name, record[name]))
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
