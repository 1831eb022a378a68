"""The Diagnosis contract: canonical render, tolerant parse, JSON, validation."""

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnr import Diagnosis, DiagnosisError, Finding
from rnr.schema import BY_NAME

EXAMPLE = Diagnosis(
    fog=Finding(True, 55.93, {"atmospheric_light": [0.91, 0.88, 0.95], "beta": 1.72, "t_mean": 0.41}),
    shake=Finding(True, 70.9, {"direction_deg": 37.5, "length_px": 6.21, "energy": 0.1234, "kernel_size": 31}),
    noise=Finding(True, 12.3, {"k": 0.12, "b": -3.4, "sigma_mean": 0.021}),
    scene="A red kite above a sandy beach under a pale sky",
)

EXPECTED_TEXT = """Fog degradation: Yes (55.9/100)
Motion blur: Yes (70.9/100)
Rain streaks: No (0.0/100)
Gaussian noise: Yes (12.3/100)
Parameters:
- Fog: atmospheric light [0.910, 0.880, 0.950], beta 1.720, mean transmission 0.410
- Motion blur: direction 37.5 deg, length 6.21 px, energy 0.1234, kernel size 31 px
- Gaussian noise: k 0.1200, b -3.40, mean sigma 0.0210
Clean scene: A red kite above a sandy beach under a pale sky"""


def test_canonical_render():
    assert EXAMPLE.render() == EXPECTED_TEXT


def test_render_parse_and_json_round_trips():
    assert Diagnosis.parse(EXAMPLE.render()) .diagnosis == EXAMPLE
    assert Diagnosis.parse(EXAMPLE.render()).ok
    assert Diagnosis.from_json(EXAMPLE.to_json()) == EXAMPLE
    assert json.loads(EXAMPLE.to_json())["fog"]["params"]["atmospheric_light"] == [0.91, 0.88, 0.95]
    assert Diagnosis.parse(Diagnosis().render()).diagnosis == Diagnosis()


def test_parser_tolerates_how_models_write():
    text = """<think>The sky is washed out, so there is fog. Rain: maybe?</think>
    Sure! Here is my analysis.
    **FOG DEGRADATION** : yes(56/100)
    * rain streaks: NO
    Gaussian Noise: Yes (12.3)
    motion blur: No (0/100)
    Detailed degradation parameters:
    - noise: K = 0.12, b: -3.4, sigma_mean=0.021
    - fog: airlight (0.9, 0.9, 0.95), β 1.7, t_mean 0.4
    Clean scene description:
    A kite over a beach.
    """
    result = Diagnosis.parse(text)
    d = result.diagnosis
    assert d.fog == Finding(True, 56.0, {"atmospheric_light": (0.9, 0.9, 0.95), "beta": 1.7, "t_mean": 0.4})
    assert d.noise == Finding(True, 12.3, {"k": 0.12, "b": -3.4, "sigma_mean": 0.021})
    assert not d.shake.present and not d.rain.present
    assert d.scene == "A kite over a beach."
    assert result.ok, result.problems


def test_parser_reports_what_it_could_not_read():
    result = Diagnosis.parse("Fog degradation: Yes\nMotion blur: Yes (250/100)\nClean scene: a dog on a long lead " + "word " * 40)
    problems = " | ".join(result.problems)
    assert "fog: present but no severity score; assumed 50" in problems
    assert "shake: severity 250.0 outside [1, 100]; clipped" in problems
    assert "rain: no presence line" in problems and "noise: no presence line" in problems
    assert "fog: missing parameter(s) atmospheric_light, beta, t_mean" in problems
    assert "kept the first 30" in problems
    assert result.diagnosis.fog.severity == 50.0 and result.diagnosis.shake.severity == 100.0
    assert len(result.diagnosis.scene.split()) == 30
    with pytest.raises(DiagnosisError, match="could not read the diagnosis"):
        Diagnosis.from_text("nothing useful here")


def test_garbage_gives_an_empty_diagnosis_with_problems():
    result = Diagnosis.parse("ĠĠ<|im_end|> 12 ;; Fog:: ??? \x00 yes yes")
    assert result.diagnosis.is_clean
    assert len(result.problems) >= 5
    assert Diagnosis.parse(None).problems  # not even text


def test_construction_refuses_contradictions_with_actionable_messages():
    with pytest.raises(DiagnosisError, match="fog is absent, so its severity must be 0"):
        Diagnosis(fog=Finding(False, 10.0))
    with pytest.raises(DiagnosisError, match=r"rain is present, so its severity must be in \[1, 100\]"):
        Diagnosis(rain=Finding(True, 0.0))
    with pytest.raises(DiagnosisError, match="unknown parameters"):
        Diagnosis(noise=Finding(True, 5.0, {"sigma": 1.0}))
    with pytest.raises(DiagnosisError, match="limit is 30"):
        Diagnosis(scene="word " * 31)
    with pytest.raises(DiagnosisError, match="3 numbers"):
        Diagnosis(fog=Finding(True, 5.0, {"atmospheric_light": [1, 2]}))
    with pytest.raises(DiagnosisError, match="unknown diagnosis keys"):
        Diagnosis.from_dict({"fgo": {}})


def test_from_record_keeps_the_contract_parameters_only():
    record = {
        "fog": {"present": False, "severity": 0.0, "params": {}},
        "shake": {"present": True, "severity": 37.38, "params": {"direction_deg": 66.27, "length_px": 3.65, "energy": 0.22, "kernel_size": 21, "r_rms": 3.7, "kernel": [[1.0]]}},
        "rain": {"present": False, "severity": 0.0, "params": {}},
        "noise": {"present": False, "severity": 0.0, "params": {}},
        "scene": "a dune",
    }
    d = Diagnosis.from_record(record)
    assert d.shake == Finding(True, 37.4, {"direction_deg": 66.3, "length_px": 3.65, "energy": 0.22, "kernel_size": 21})
    assert d.scene == "a dune" and d.severities() == (0.0, 37.4, 0.0, 0.0)


def _finding(name):
    def param(key):
        if key == "atmospheric_light":
            return st.lists(st.floats(0, 1), min_size=3, max_size=3)
        if key == "kernel_size":
            return st.integers(1, 255)
        return st.floats(-1000, 1000, allow_nan=False)

    params = st.fixed_dictionaries({}, optional={key: param(key) for key in BY_NAME[name].param_names})
    present = st.builds(Finding, st.just(True), st.floats(1, 100), params)
    return st.one_of(st.just(Finding()), present)


_words = st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("C", "Z")), min_size=1, max_size=8), max_size=30)
diagnoses = st.builds(
    Diagnosis,
    fog=_finding("fog"),
    shake=_finding("shake"),
    rain=_finding("rain"),
    noise=_finding("noise"),
    scene=_words.map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(diagnoses)
def test_render_then_parse_is_the_identity(diagnosis):
    result = Diagnosis.parse(diagnosis.render())
    assert result.diagnosis == diagnosis
    assert Diagnosis.from_json(diagnosis.to_json()) == diagnosis


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text):
    result = Diagnosis.parse(text)
    assert isinstance(result.diagnosis, Diagnosis)
    assert isinstance(result.problems, tuple)


def test_markdown_bold_labels_are_read_and_scene_text_is_kept_verbatim():
    text = "**Fog degradation:** **Yes** (40/100)\n- __Rain streaks__: no\nMotion blur: No\nGaussian noise: No\n**Clean scene:** __init__ ** x"
    result = Diagnosis.parse(text)
    assert result.diagnosis.fog.present and result.diagnosis.fog.severity == 40.0
    assert result.diagnosis.scene == "__init__ ** x"
    d = Diagnosis(scene="__ x ** __")
    assert Diagnosis.parse(d.render()).diagnosis == d


def test_think_blocks_are_dropped_but_not_inside_a_scene():
    answer = "Fog degradation: Yes (40/100)\nMotion blur: No\nRain streaks: No\nGaussian noise: No\nClean scene: a <think> sign</think>"
    assert Diagnosis.parse(answer).diagnosis.scene == "a <think> sign</think>"
    assert Diagnosis.parse("The prompt opened the block... fog: yes (90/100)?\n</think>\n" + answer).diagnosis.fog.severity == 40.0
    assert Diagnosis.parse("<think>still going, fog: yes").diagnosis.is_clean


# --- parse is total and bounded (untrusted model output) -------------------------------
_HOSTILE_PIECES = st.sampled_from([" ", "\t", "\n", "- ", "**", "<think>", "</think>", "Fog degradation: ", "Yes (", "1e999",
                                   "9" * 50, "[", ",", "- Fog: atmospheric light [", "beta ", "Clean scene: ", "{", "}"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_HOSTILE_PIECES, st.integers(1, 400)), max_size=12))
def test_parse_never_raises_and_stays_fast_on_hostile_text(pieces):
    text = "".join(piece * count for piece, count in pieces)
    started = time.perf_counter()
    result = Diagnosis.parse(text)
    assert time.perf_counter() - started < 0.5
    assert all(0 <= s <= 100 for s in result.diagnosis.severities())


@pytest.mark.parametrize("text", [" " * 1000 + "x", "\t" * 1000 + "x", "\n<think>" * 10_000, "- Fog: atmospheric light [" + "1" * 10_000,
                                  "{" * 170_000 + "}" * 170_000, "- " + " " * 5000 + "x", " " * 800 + "</think>"])
def test_parse_is_fast_on_the_audits_slow_inputs(text):
    started = time.perf_counter()
    Diagnosis.parse(text)
    assert time.perf_counter() - started < 0.5


def test_an_infinite_number_is_reported_not_raised():
    result = Diagnosis.parse("Fog degradation: Yes (1e999/100)\nParameters:\n- Fog: beta 1e999, mean transmission 0.5")
    assert result.diagnosis.fog.present and result.diagnosis.fog.severity == 50.0
    assert "beta" not in result.diagnosis.fog.params and result.diagnosis.fog.params["t_mean"] == 0.5
    assert "fog: severity inf is not a number; assumed 50" in result.problems
