"""Every output the parameter schema feeds, computed from fixed inputs through the public API.

`tests/golden/schema_golden.json` holds these outputs as the code made them before the schema
existed (commit 1ac921e); `test_schema.py` recomputes them and compares them exactly but for
floats, which it compares at 10 significant digits (`golden_compare.py`: NumPy's kernels
differ by CPU in the last bit), so the schema is proven to change no canonical text, JSON,
vector, column or record.
Regenerate only for an intended change: `.venv/bin/python tests/schema_cases.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).parent / "golden" / "schema_golden.json"

from degradations import SynthConfig, synthesize
from rnr.diagnosis import Diagnosis

# Text written as models write it: every alias, bold labels, missing and contradictory parts.
PARSE_TEXTS = (
    "**FOG DEGRADATION** : yes(56/100)\n* rain streaks: NO\nGaussian Noise: Yes (12.3)\nmotion blur: No (0/100)\n"
    "Detailed degradation parameters:\n- noise: K = 0.12, b: -3.4, sigma_mean=0.021\n"
    "- fog: airlight (0.9, 0.9, 0.95), β 1.7, t_mean 0.4\nClean scene description:\nA kite over a beach.",
    "Haze: present 40%\nCamera shake: detected (80)\nRain: true 12\nSensor noise: absent\n"
    "Parameters:\n- haze: air light [0.8, 0.7, 0.9], scattering coefficient 2.1, transmission mean 0.3\n"
    "- camera shake: angle 170, effective length 7.5, energy 0.02, size 25\n"
    "- rain: density 0.004, angle -12, length_px 30, width 1.5, alpha 0.6\nScene: a street",
    "Fog: Yes (30/100)\nBlur: Yes (61.25/100)\nRain streaks: Yes (5/100)\nRead-out noise: Yes (99/100)\n"
    "Parameters:\n- Fog: atmospheric_light (1, 1, 1), scattering 0.5\n"
    "- Blur: direction_deg 12.25, length_px 3.333, energy 0.5, kernel_size 15\n"
    "- Rain: density 0.01, slant_deg 20, length_px 12, width_px 2.25, opacity 0.9\n"
    "- Noise: k 0.2, b 5, σ̄ 0.04\nClean scene: a harbour at dusk",
    "Fog degradation: Yes\nMotion blur: Yes (250/100)\nRain streaks: No (10/100)\nGaussian noise: No\n"
    "Parameters:\n- Rain streaks: density 0.002\n- Gaussian noise: mean sigma 0.01\nClean scene:",
    "Gaussian noise: Yes (20/100)\n- Gaussian noise: sigma 0.03, k 1e999, b -2\nscene: grass",
    "<think>fog? rain?</think>nothing useful here",
)


def records(count: int = 16) -> list[dict]:
    """Synthesized records over every degradation mix (a small real-looking gradient image)."""
    y, x = np.mgrid[0:48, 0:64].astype(np.float32)
    clean = np.stack([x / 64, y / 48, (x + y) / 112], axis=-1).astype(np.float32)
    config = SynthConfig(p_fog=0.6, p_shake=0.6, p_rain=0.6, p_noise=0.6, clean_share=0.1)
    out = []
    for seed in range(count):
        record = synthesize(clean, np.random.default_rng(seed), config).record
        out.append(json.loads(json.dumps(record)))  # JSON-able as the datasets store it
    return out


def decode_inputs(count: int = 12) -> list[tuple[list, list, list]]:
    """Model outputs around and beyond every clip bound."""
    from rnr.encoding import PARAM_COUNT

    rng = np.random.default_rng(7)
    cases = []
    for _ in range(count):
        presence = rng.uniform(0, 1, 4).round(3)
        severities = rng.uniform(-0.2, 1.2, 4).round(3)
        params = rng.normal(0.3, 0.8, PARAM_COUNT).astype(np.float32)
        cases.append((presence.tolist(), severities.tolist(), params.tolist()))
    return cases


def outputs() -> dict:
    from reasoner.accuracy import accuracy_report, markdown
    from rnr.encoding import PARAM_SLOTS, VECTOR_SIZE, decode, encode
    from rnr.synth import hf_features, record_columns

    recs = records()
    truths = [Diagnosis.from_record(r, scene="a scene") for r in recs]
    parsed = [Diagnosis.parse(text) for text in PARSE_TEXTS]
    decoded = [decode(np.array(p), np.array(s), np.array(v, np.float32), threshold=0.4) for p, s, v in decode_inputs()]
    report = accuracy_report(decoded + truths[4:], truths[:12] + truths[4:], parse_failures=2, seconds=4.0)
    return {
        "records": [json.dumps(r) for r in recs],
        "render": [d.render() for d in truths + decoded],
        "json": [d.to_json() for d in truths + decoded],
        "parse": [[r.diagnosis.to_json(), list(r.problems)] for r in parsed],
        "encode": [encode(d).tolist() for d in truths + decoded + [r.diagnosis for r in parsed]],
        "vector": [VECTOR_SIZE, {k: list(v) for k, v in PARAM_SLOTS.items()}],
        "features": json.dumps(hf_features().to_dict()),
        "columns": [json.dumps(record_columns(r)) for r in recs],
        "accuracy": json.dumps(report),
        "markdown": markdown(report),
    }


if __name__ == "__main__":
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(outputs(), indent=1) + "\n")
    print(f"wrote {GOLDEN}")
