"""Config: dataclass defaults → YAML → key=value overrides, unknown keys refused."""

import pytest

from degradations.compose import SynthConfig
from rnr.config import ConfigError, load_config, to_dict


def test_defaults_yaml_then_overrides(tmp_path):
    path = tmp_path / "synth.yaml"
    path.write_text("p_fog: 0.9\nfog:\n  beta: [1.0, 2.0]\n")
    config = load_config(SynthConfig, path, ["fog.beta=[1.5, 2.5]", "p_rain=0.1"])
    assert config.p_fog == 0.9 and config.p_rain == 0.1
    assert config.fog.beta == (1.5, 2.5)  # YAML lists become the tuples the dataclass declares
    assert config.shake == SynthConfig().shake
    assert to_dict(config)["fog"]["beta"] == [1.5, 2.5]


def test_the_shipped_default_config_is_the_dataclass_default():
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[1] / "configs" / "synth" / "default.yaml"
    assert load_config(SynthConfig, shipped) == SynthConfig()


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["p_fgo=0.3"], r"unknown config key\(s\) p_fgo; known keys: p_fog"),
        (["fog.bta=[1,2]"], r"unknown config key\(s\) fog.bta"),
        (["fog=3"], "fog is a section"),
        (["beta"], "not key=value"),
        (["fog.beta=[3, 1]"], "low 3.0 is above high 1.0"),
        (["fog.beta=[1, lots]"], "fog.beta: 'lots' is not a number"),
    ],
)
def test_bad_configs_name_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(SynthConfig, None, overrides)


def test_unreadable_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(SynthConfig, tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("p_fog: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(SynthConfig, tmp_path / "bad.yaml")


def test_numbers_are_read_as_the_fields_declare_them(tmp_path):
    """YAML reads 5e-5 (no dot) as a string; a float field still gets a float, from a file or an override."""
    from rl.grpo import GRPOConfig

    path = tmp_path / "g.yaml"
    path.write_text("learning_rate: 5e-5\nmax_steps: 20\n")
    config = load_config(GRPOConfig, path, ["temperature=1e-3", "limit=8"])
    assert (config.learning_rate, config.temperature, config.limit) == (5e-5, 1e-3, 8)
    assert isinstance(config.learning_rate, float) and isinstance(config.limit, int)
    with pytest.raises(ConfigError, match="temperature: 'warm' is not a number"):
        load_config(GRPOConfig, None, ["temperature=warm"])


def test_accelerates_no_is_a_word_on_the_command_line_and_a_clear_error_unquoted_in_a_file(tmp_path):
    """YAML 1.1 reads no/off/yes/on as booleans: mixed_precision=no arrived as False ("got False")."""
    from rl.grpo import GRPOConfig

    assert load_config(GRPOConfig, None, ["mixed_precision=no"]).mixed_precision == "no"
    assert load_config(GRPOConfig, None, ["mixed_precision=bf16"]).mixed_precision == "bf16"
    path = tmp_path / "g.yaml"
    path.write_text("mixed_precision: 'no'\n")
    assert load_config(GRPOConfig, path).mixed_precision == "no"
    path.write_text("mixed_precision: no\n")
    with pytest.raises(ConfigError) as error:
        load_config(GRPOConfig, path)
    assert str(error.value) == ("mixed_precision: YAML reads false (or yes/no, on/off) as a yes/no; "
                                "quote the word: mixed_precision: 'no'")
