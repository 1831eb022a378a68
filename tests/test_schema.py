"""The parameter schema: every consumer derived from it, and nothing it feeds changed by it."""

import json

import pytest

from golden_compare import rounded
from schema_cases import GOLDEN, outputs

GOLDEN_OUTPUTS = json.loads(GOLDEN.read_text())


@pytest.fixture(scope="module")
def current_outputs() -> dict:
    return outputs()


@pytest.mark.parametrize("part", sorted(GOLDEN_OUTPUTS))
def test_outputs_are_those_before_the_schema(part, current_outputs):
    assert rounded(current_outputs[part]) == rounded(GOLDEN_OUTPUTS[part])


# --- every consumer, checked against the schema ------------------------------------------
import io  # noqa: E402
import re  # noqa: E402
import tokenize  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from degradations import SynthConfig, synthesize  # noqa: E402
from reasoner.accuracy import parameter_errors  # noqa: E402
from rnr import Diagnosis, Finding  # noqa: E402
from rnr.encoding import PARAM_SLOTS, decode, encode, param_offset  # noqa: E402
from rnr.schema import BY_NAME, DEGRADATIONS, SCHEMA, column_types  # noqa: E402

PARAMETERS = [(spec.name, param) for spec in SCHEMA for param in spec.params]
IDS = [f"{name}.{param.name}" for name, param in PARAMETERS]


# How models write each parameter: every alternative of its aliases, once.
ALIASES_WRITTEN = {
    ("fog", "atmospheric_light"): ("atmospheric light", "atmospheric_light", "airlight", "air light"),
    ("fog", "beta"): ("beta", "β", "scattering", "scattering coefficient"),
    ("fog", "t_mean"): ("mean transmission", "t_mean", "transmission", "transmission mean"),
    ("shake", "direction_deg"): ("direction", "direction_deg", "angle"),
    ("shake", "length_px"): ("length", "effective length", "length_px"),
    ("shake", "energy"): ("energy", "Energy"),
    ("shake", "kernel_size"): ("kernel size", "kernel_size", "size"),
    ("rain", "density"): ("density",),
    ("rain", "slant_deg"): ("slant", "slant_deg", "angle"),
    ("rain", "length_px"): ("length", "length_px"),
    ("rain", "width_px"): ("width", "width_px"),
    ("rain", "opacity"): ("opacity", "alpha"),
    ("noise", "k"): ("k", "K"),
    ("noise", "b"): ("b", "B"),
    ("noise", "sigma_mean"): ("mean sigma", "sigma_mean", "σ̄", "sigma"),
}


def _value(param, offset: float = 0.0):
    """A value inside the parameter's bounds, at its decimals."""
    low, high = param.bounds
    base = (low if low is not None else 0.0) + 0.5 + offset if high is None else (low + high) / 2 + offset / 10
    if param.odd:
        return 2 * int(base) + 5
    if param.size > 1:
        return tuple(round(base - i / 100, param.decimals) for i in range(param.size))
    return round(base, param.decimals)


@pytest.mark.parametrize(("name", "param"), PARAMETERS, ids=IDS)
def test_each_parameter_renders_as_declared_and_parses_back(name, param):
    spec, value = BY_NAME[name], _value(param)
    diagnosis = Diagnosis(**{name: Finding(True, 40.0, {param.name: value})})
    text = diagnosis.render()
    shown = "[" + ", ".join(f"{v:.{param.decimals}f}" for v in value) + "]" if param.size > 1 else f"{value:.{param.decimals}f}"
    unit = f" {param.unit}" if param.unit else ""
    assert f"{spec.presence_label}: Yes (40.0/100)" in text.splitlines()
    assert f"- {spec.params_label}: {param.label} {shown}{unit}" in text.splitlines()
    assert Diagnosis.parse(text).diagnosis == diagnosis
    # every alias the schema declares is read as this parameter
    for written in ALIASES_WRITTEN[name, param.name]:
        assert re.fullmatch(param.aliases, written, re.I), written
        aliased = text.replace(f"{param.label} {shown}", f"{written}: {shown}")
        assert Diagnosis.parse(aliased).diagnosis == diagnosis, written


@pytest.mark.parametrize(("name", "param"), PARAMETERS, ids=IDS)
def test_each_parameter_has_its_slots_in_the_vector_and_decodes_back(name, param):
    value = _value(param, offset=0.2)
    diagnosis = Diagnosis(**{name: Finding(True, 40.0, {param.name: value})})
    vector = encode(diagnosis)
    start = param_offset(name) + PARAM_SLOTS[name].index(param.vector_slots[0])
    touched = np.flatnonzero(vector[2 * len(DEGRADATIONS) :]) + 2 * len(DEGRADATIONS)
    assert set(touched) <= set(range(start, start + len(param.vector_slots)))
    n = len(DEGRADATIONS)
    back = getattr(decode(vector[:n], vector[n : 2 * n], vector[2 * n :]), name).params[param.name]
    assert np.allclose(back, value, atol=10 ** -param.decimals), (back, value)


def test_a_decoded_value_is_clipped_into_its_schema_bounds():
    n, count = len(DEGRADATIONS), sum(len(s) for s in PARAM_SLOTS.values())
    for fill in (-50.0, 50.0):
        decoded = decode(np.ones(n), np.full(n, 0.5), np.full(count, fill, np.float32))
        for name, param in PARAMETERS:
            low, high = param.bounds
            value = getattr(decoded, name).params[param.name]
            for v in np.atleast_1d(value):
                assert (low is None or v >= low) and (high is None or v <= high), (name, param.name, v)
            if param.odd:
                assert value % 2 == 1


@pytest.fixture(scope="module")
def full_record() -> dict:
    """A record with all four degradations present."""
    clean = np.linspace(0, 1, 64 * 64 * 3, dtype=np.float32).reshape(64, 64, 3)
    config = SynthConfig(p_fog=1, p_shake=1, p_rain=1, p_noise=1, clean_share=0)
    return synthesize(clean, np.random.default_rng(3), config).record


@pytest.mark.parametrize("name", DEGRADATIONS)
def test_compose_records_the_schema_keys_and_scores_from_its_inputs(name, full_record):
    from degradations.compose import SEVERITY

    spec, entry = BY_NAME[name], full_record[name]
    assert tuple(entry["params"]) == spec.record_keys
    assert entry["severity"] == SEVERITY[name](*(entry["params"][key] for key in spec.severity_inputs))
    assert set(Diagnosis.from_record(full_record).findings()[name].params) == set(spec.param_names)


def test_dataset_columns_are_the_schemas(full_record):
    from rnr.synth import hf_features, record_columns

    features, row = hf_features(), record_columns(full_record)
    for name in DEGRADATIONS:
        for column, dtype in column_types(name).items():
            assert column in row
            feature = features[column]
            while dtype.endswith("[]"):
                feature, dtype = feature.feature, dtype[:-2]
            assert feature.dtype == dtype, column
    expected = {c for name in DEGRADATIONS for c in column_types(name)}
    assert {c for c in features if c.split("_")[0] in DEGRADATIONS} == expected


def test_accuracy_measures_every_parameter_and_axial_ones_modulo_180():
    truth = [Diagnosis(shake=Finding(True, 50.0, {"direction_deg": 179.0}))]
    said = [Diagnosis(shake=Finding(True, 50.0, {"direction_deg": 1.0}))]
    errors = parameter_errors(said, truth)
    assert {name: tuple(errors[name]) for name in DEGRADATIONS} == {s.name: s.param_names for s in SCHEMA}
    assert errors["shake"]["direction_deg"]["mae"] == pytest.approx(2.0)


# Files allowed to name a parameter in code: the schema, the modules that produce it, and
# the physics that reads it (the classical and lite restorers, the lite reasoner's
# features; explain's wording is the schema's own `words`). A table anywhere else is a second
# source of truth: read the schema instead.
REPO = Path(__file__).resolve().parents[1]
LIBRARY = ("rnr", "reasoner", "restorer", "degradations", "rl")


def _names_in_code(path: Path) -> set[str]:
    """Parameter names used as keys or attributes: quoted, or after a dot (docstrings and comments aside)."""
    found, previous, before = set(), None, None
    for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if token.type == tokenize.STRING and previous not in (tokenize.INDENT, tokenize.NEWLINE, tokenize.NL, None):
            found.update(re.findall(r"""['"]([a-z_]+)['"]""", token.string))
            found.update(re.findall(r"""^[rbf]*['"]([a-z_]+)['"]$""", token.string))
        elif token.type == tokenize.NAME and previous == "." and before != "self":  # a network's own weights
            found.add(token.string)
        if token.type != tokenize.COMMENT:
            before, previous = previous, token.string if token.type in (tokenize.OP, tokenize.NAME) else token.type
    return found


def consumers_of_parameters() -> dict[str, list[str]]:
    """Per parameter, the library files that name it beyond the schema and the degradation modules declaring it."""
    used = {path.relative_to(REPO).as_posix(): _names_in_code(path)
            for folder in LIBRARY for path in sorted((REPO / folder).rglob("*.py"))}
    consumers = {}
    for spec, param in PARAMETERS:
        if param.name in ("k", "b"):  # one-letter names read as words elsewhere
            continue
        owners = {"rnr/schema.py"} | {f"degradations/{other.name}.py" for other in SCHEMA if param.name in other.param_names}
        consumers[f"{spec}.{param.name}"] = sorted(f for f, names in used.items() if param.name in names and f not in owners)
    return consumers


def test_each_parameter_is_named_by_the_schema_its_producer_and_at_most_one_consumer():
    """Renaming a parameter touches its schema entry, its degradation module and at most one file more
    (the restorer's priors read the vector slots they invert); every other consumer asks the degradation
    module (`fog.haze_of`, `shake.line_of`, `noise.sigma_of`, `*.consistent`) or derives from the schema."""
    consumers = consumers_of_parameters()
    offenders = {name: files for name, files in consumers.items() if len(files) > 1}
    assert not offenders, f"name parameters through rnr.schema or their degradation module: {offenders}"
    assert consumers["fog.t_mean"] == ["restorer/priors.py"]  # the rule sees real uses
