"""The parameter schema: every consumer derived from it, and nothing it feeds changed by it."""

import json

import pytest

from schema_cases import GOLDEN, outputs

GOLDEN_OUTPUTS = json.loads(GOLDEN.read_text())


@pytest.fixture(scope="module")
def current_outputs() -> dict:
    return outputs()


@pytest.mark.parametrize("part", sorted(GOLDEN_OUTPUTS))
def test_outputs_are_byte_identical_to_those_before_the_schema(part, current_outputs):
    assert current_outputs[part] == GOLDEN_OUTPUTS[part]
