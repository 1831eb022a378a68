"""The composer: order, presence, clean share, determinism, and bit-exact replay."""

import json

import numpy as np
import pytest

from degradations import SynthConfig, apply_plan, plan, replay, synthesize
from degradations.compose import Plan
from degradations.depth import heuristic_depth

ALL = SynthConfig(p_fog=1, p_shake=1, p_rain=1, p_noise=1, clean_share=0)


def test_every_stage_is_kept_in_eq1_order(photo):
    sample = synthesize(photo, np.random.default_rng(0), ALL)
    assert list(sample.stages) == ["fog", "shake", "rain", "noise"]
    assert sample.degraded is sample.stages["noise"]
    assert sample.record["clean"] is False
    for name in ("fog", "shake", "rain", "noise"):
        assert sample.record[name]["present"] and 1 <= sample.record[name]["severity"] <= 100
    assert sample.record["fog"]["depth_source"] == "heuristic"
    assert np.asarray(sample.record["shake"]["params"]["kernel"]).sum() == pytest.approx(1, abs=1e-5)
    assert sample.degraded.dtype == np.float32 and sample.degraded.shape == photo.shape


def test_same_generator_seed_gives_identical_bytes_and_different_seeds_differ(photo):
    first = synthesize(photo, np.random.default_rng([7, 3]), ALL)
    again = synthesize(photo, np.random.default_rng([7, 3]), ALL)
    other = synthesize(photo, np.random.default_rng([7, 4]), ALL)
    assert first.degraded.tobytes() == again.degraded.tobytes()
    assert json.dumps(first.record) == json.dumps(again.record)
    assert first.degraded.tobytes() != other.degraded.tobytes()


def test_replay_from_a_json_record_is_bit_exact(photo):
    for index in range(6):
        sample = synthesize(photo, np.random.default_rng([1, index]), SynthConfig(clean_share=0))
        record = json.loads(json.dumps(sample.record))
        rebuilt = replay(photo, record)
        assert rebuilt.degraded.tobytes() == sample.degraded.tobytes()
        assert rebuilt.record == record
        for name, stage in sample.stages.items():
            assert rebuilt.stages[name].tobytes() == stage.tobytes()


def test_replay_with_a_supplied_depth_needs_that_depth(photo):
    depth = np.tile(np.linspace(0, 1, photo.shape[1], dtype=np.float32), (photo.shape[0], 1))
    the_plan = plan(np.random.default_rng(0), SynthConfig(p_fog=1, p_shake=0, p_rain=0, p_noise=0, clean_share=0))
    sample = apply_plan(photo, the_plan, depth, "file:left.npy")
    record = json.loads(json.dumps(sample.record))
    assert record["fog"]["depth_source"] == "file:left.npy"
    with pytest.raises(ValueError, match="file:left.npy"):
        replay(photo, record)
    assert replay(photo, record, depth=depth).degraded.tobytes() == sample.degraded.tobytes()
    # farther (right) columns are foggier: closer to the atmospheric light
    t = np.exp(-depth * the_plan.fog.beta)
    assert record["fog"]["params"]["t_mean"] == pytest.approx(float(np.clip(t, 0.05, 1).mean()), rel=1e-5)


def test_clean_share_and_presence_probabilities():
    rng = np.random.default_rng(0)
    plans = [plan(rng, SynthConfig(clean_share=0.25)) for _ in range(800)]
    clean = [p for p in plans if all(x is None for x in (p.fog, p.shake, p.rain, p.noise))]
    assert 0.2 < len(clean) / 800 < 0.3
    assert all(plan(rng, SynthConfig(clean_share=1.0)).fog is None for _ in range(20))
    only_rain = [plan(rng, SynthConfig(p_fog=0, p_shake=0, p_rain=1, p_noise=0, clean_share=0)) for _ in range(20)]
    assert all(p.rain is not None and p.fog is None and p.shake is None and p.noise is None for p in only_rain)


def test_a_clean_plan_returns_the_image_untouched(photo):
    sample = apply_plan(photo, Plan())
    assert sample.record["clean"] is True and sample.stages == {}
    assert sample.degraded is photo
    assert all(sample.record[name] == {"present": False, "severity": 0.0, "params": {}} for name in ("shake", "rain", "noise"))


def test_impossible_configs_are_refused():
    with pytest.raises(ValueError, match="every p_"):
        SynthConfig(p_fog=0, p_shake=0, p_rain=0, p_noise=0, clean_share=0.5)
    with pytest.raises(ValueError, match="clean_share"):
        SynthConfig(clean_share=1.5)


def test_heuristic_depth_is_deterministic_and_puts_the_top_farther(photo):
    depth = heuristic_depth(photo)
    assert depth.shape == photo.shape[:2] and depth.min() >= 0 and depth.max() <= 1
    np.testing.assert_array_equal(depth, heuristic_depth(photo))
    grey = np.full((64, 48, 3), 0.5, np.float32)
    flat = heuristic_depth(grey)
    assert flat[:8].mean() > flat[-8:].mean()
