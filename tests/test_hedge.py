"""Doubt carried into restoration (`rnr.hedge`): a degradation the lite reasoner is unsure of is corrected in part."""

import dataclasses
import shutil

import numpy as np
import pytest
from PIL import Image

from reasoner.lite import WEIGHTS, LiteReasoner
from reasoner.lite_train import choose_ramp, set_hedge_ramp
from restorer.classical import ClassicalRestorer
from restorer.lite import LiteRestorer
from rnr import Diagnosis, Finding
from rnr.cli.restore import main as restore_main
from rnr.hedge import Hedge, hedged_restore, ramp_weight, restore_all
from rnr.imageio import read_image
from rnr.pipeline import explain

COFFEE = "rnr/assets/demo/coffee-fog-shake.png"  # fog for sure; shake probability 0.91 under the shipped 1f weights


def test_a_hedge_blends_the_restorations_with_and_without_the_doubted_degradation():
    image = read_image(COFFEE)
    reasoner = dataclasses.replace(LiteReasoner.load(), hedge_ramps={"shake": (0.0, 1.0)})  # the weight is the probability
    (diagnosis, hedge), = reasoner.diagnose_hedged([image])
    probability = float(reasoner.readings([image])[0][0][1])
    assert hedge.kind == "shake" and hedge.probability == pytest.approx(probability) and hedge.weight == pytest.approx(probability)
    assert hedge.blends and 0.5 < hedge.weight < 0.99
    assert hedge.with_it.shake.present and not hedge.without_it.shake.present
    assert diagnosis == hedge.with_it  # reported: the cut-off's side (0.91 is above shake's cut-off)
    for kind in ("fog", "rain", "noise"):  # the others as the cut-offs say, on both sides
        assert getattr(hedge.with_it, kind) == getattr(hedge.without_it, kind) == getattr(diagnosis, kind)
    restorer = LiteRestorer.load()
    with_it, without_it = restorer.restore([image, image], [hedge.with_it, hedge.without_it])
    assert np.abs(with_it - without_it).mean() > 0.005  # two different restorations were blended
    blended = hedged_restore(restorer, image, diagnosis, hedge)
    np.testing.assert_allclose(blended, hedge.weight * with_it + (1 - hedge.weight) * without_it, atol=1e-6)
    # any restorer reads the same two diagnoses
    classical = ClassicalRestorer()
    expected = hedge.weight * classical.restore([image], [hedge.with_it])[0] + (1 - hedge.weight) * classical.restore([image], [hedge.without_it])[0]
    np.testing.assert_allclose(restore_all(classical, [image], [diagnosis], [hedge])[0], expected, atol=1e-6)


def test_no_hedge_without_a_ramp_or_when_the_weight_is_one_side():
    image = read_image(COFFEE)
    plain = dataclasses.replace(LiteReasoner.load(), hedge_ramps={})
    assert plain.diagnose_hedged([image]) == [(plain.diagnose([image])[0], None)]
    sure = dataclasses.replace(plain, hedge_ramps={"shake": (0.05, 0.5)})  # 0.91 is past the ramp: all of the correction
    assert sure.diagnose_hedged([image])[0][1] is None
    restorer = LiteRestorer.load()
    diagnosis = plain.diagnose([image])[0]
    assert np.array_equal(hedged_restore(restorer, image, diagnosis, None), restorer.restore([image], [diagnosis])[0])
    assert ramp_weight(0.3, (0.2, 0.6)) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="1 images, 1 diagnoses and 2 hedges: give one of each per image"):
        restore_all(restorer, [image], [diagnosis], [None, None])


def test_the_explanation_says_how_sure_and_how_much_was_corrected():
    shaken = Diagnosis(shake=Finding(True, 30.0, {"direction_deg": 10.0, "length_px": 2.0, "energy": 0.25, "kernel_size": 15}))
    unsure = Hedge("shake", 0.46, 0.36, with_it=shaken, without_it=Diagnosis())
    assert explain(Diagnosis(), unsure).splitlines()[1] == (
        "  Camera shake: none found; the reasoner is 46% sure there is some: corrected at 36% strength")
    assert explain(Diagnosis(), dataclasses.replace(unsure, weight=0.995)) == explain(Diagnosis())  # one side: nothing blended


def test_the_shipped_reasoner_carries_the_ramp_chosen_on_validation_photos(tmp_path):
    from safetensors import safe_open

    shipped = LiteReasoner.load()
    assert set(shipped.hedge_ramps) == {"shake"}
    low, high = shipped.hedge_ramps["shake"]
    assert 0 <= low < shipped.thresholds[1] < high <= 1  # the ramp straddles the cut-off
    with safe_open(str(WEIGHTS), "pt") as handle:
        assert "benchmarks/val_hedge.py" in handle.metadata()["shake_hedge_chosen_by"]
    weights = tmp_path / "r.safetensors"
    shutil.copy(WEIGHTS, weights)
    assert set_hedge_ramp(weights, "noise", (0.3, 0.9), "a test") == {"shake": (low, high), "noise": (0.3, 0.9)}
    again = LiteReasoner.load(weights)
    assert again.hedge_ramps == {"shake": (low, high), "noise": (0.3, 0.9)} and again.thresholds == shipped.thresholds
    with pytest.raises(ValueError, match=r"a hedge ramp needs 0 <= low < high <= 1, not \[0.9, 0.3\]"):
        set_hedge_ramp(weights, "noise", (0.9, 0.3), "a test")
    plain = {"ramp": None, "gain": 6.1, "harmed": 5, "clean_below_40": 1, "clean_worst": 35.0}
    worse = {"ramp": (0.2, 1.0), "gain": 6.0, "harmed": 5, "clean_below_40": 1, "clean_worst": 36.0}
    assert choose_ramp([plain, worse]) is None  # nothing beats the plain cut-off: no hedge


def test_rnr_restore_explains_and_writes_the_blended_restoration(tmp_path, capsys):
    source = tmp_path / "coffee.png"
    Image.open(COFFEE).save(source)
    assert restore_main([str(source), "-o", str(tmp_path / "out"), "--explain"]) == 0
    image = read_image(source)
    (diagnosis, hedge), = LiteReasoner.load().diagnose_hedged([image])
    assert hedge is not None and hedge.blends
    shake_line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("  Camera shake:"))
    assert shake_line.endswith(f"(within a 15 px kernel); the reasoner is {hedge.probability:.0%} sure there is some: "
                               f"corrected at {hedge.weight:.0%} strength")
    written = read_image(tmp_path / "out" / "coffee.restored.png")
    expected = hedged_restore(LiteRestorer.load(), image, diagnosis, hedge)
    assert np.abs(written - expected).max() <= 1 / 255 + 1e-6
