"""The embedded default: lite reasoner and restorer, rnr-restore, and the shipped weights' quality."""

import dataclasses
import json

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from reasoner.lite import LiteReasoner
from restorer.lite import LiteRestorer, tiled
from restorer.lite_net import LiteRestorationNet
from rnr import Diagnosis, Finding
from rnr.cli.restore import main as restore_main

DEMO = "rnr/assets/demo"
# Looser than the full test set's numbers in rnr/weights/MODEL_CARD.md (F1 fog 1.00, shake 0.92,
# rain 0.95, noise 1.00; worst severity MAE 6.3 (shake); +5.0 dB; every clean photo said clean),
# so only a regression fails.
QUALITY = {"fog_f1": 0.85, "shake_f1": 0.8, "rain_f1": 0.85, "noise_f1": 0.85, "max_severity_mae": 15.0, "psnr_gain_db": 3.0}


def test_an_untrained_restorer_is_the_identity_and_tiles_blend_exactly():
    restorer = LiteRestorer(model=LiteRestorationNet().eval())
    image = np.random.default_rng(0).random((150, 130, 3), dtype=np.float32)
    fog = Diagnosis(fog=Finding(True, 40.0, {"atmospheric_light": [0.9, 0.9, 0.9], "beta": 1.5, "t_mean": 0.5}))
    whole = restorer.restore_array(image, None)
    np.testing.assert_allclose(whole, image, atol=1e-6)  # zero-initialised outlet: output = input
    blended = tiled(lambda x: x, image, tile=64, overlap=16)
    np.testing.assert_allclose(blended, image, atol=1e-6)
    with pytest.raises(ValueError, match="tile 32 must be more than twice the overlap 16"):
        tiled(lambda x: x, image, tile=32, overlap=16)
    assert restorer.restore([image], [fog])[0].shape == (150, 130, 3)


def test_each_tile_gets_the_same_tile_of_the_array_beside_it():
    from restorer.lite import photo_denoised
    from restorer.priors import nlm_denoise
    from rnr.encoding import encode

    image = np.random.default_rng(1).random((150, 130, 3), dtype=np.float32)
    beside = np.random.default_rng(2).random((150, 130, 3), dtype=np.float32)
    np.testing.assert_allclose(tiled(lambda x, b: b, image, tile=64, overlap=16, beside=beside), beside, atol=1e-6)
    np.testing.assert_allclose(tiled(lambda x, b: x + b, image, tile=200, overlap=16, beside=beside), image + beside, atol=1e-6)
    # the whole photo denoised once, as tile by tile: only where noise is diagnosed
    import torch

    noisy = Diagnosis(noise=Finding(True, 40.0, {"k": 0.15, "b": 4.0, "sigma_mean": 0.02}))
    condition = torch.from_numpy(encode(noisy))[None]
    whole = nlm_denoise(torch.from_numpy(image).permute(2, 0, 1)[None], condition)[0].permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(photo_denoised(image, condition), whole)
    assert photo_denoised(image, torch.from_numpy(encode(Diagnosis()))[None]) is None


def test_the_shipped_models_load_offline_and_take_any_size():
    reasoner, restorer = LiteReasoner.load(), LiteRestorer.load()
    rng = np.random.default_rng(1)
    images = [rng.random(shape, dtype=np.float32) for shape in ((37, 53, 3), (300, 200, 3), (700, 900, 3))]
    diagnoses = reasoner.diagnose(images)
    assert len(diagnoses) == 3 and all(isinstance(d, Diagnosis) for d in diagnoses)
    assert reasoner.severities(images).shape == (3, 4)
    outputs = restorer.restore(images, diagnoses)
    assert [o.shape for o in outputs] == [i.shape for i in images]
    clean = Diagnosis()
    np.testing.assert_array_equal(restorer.restore([images[0]], [clean])[0], images[0])  # nothing diagnosed, nothing changed


def test_the_loaded_restorer_runs_channels_last_and_matches_the_planar_network_it_trained_as():
    import copy

    import torch

    restorer = LiteRestorer.load()
    network = restorer.model
    assert network.inlet.weight.is_contiguous(memory_format=torch.channels_last)
    planar = copy.deepcopy(network).to(memory_format=torch.contiguous_format)
    generator = torch.Generator().manual_seed(3)
    image, noise = torch.rand(1, 3, 64, 96, generator=generator), torch.zeros(1, 1, 64, 96)
    condition = torch.rand(1, network.film[0].in_features, generator=generator)
    with torch.no_grad():
        fast, reference = network(image, image, image, noise, condition), planar(image, image, image, noise, condition)
    assert float((fast - reference).abs().max()) < 1e-5 and float((reference - image).abs().max()) > 1e-3
    norm = network.levels[0][0].norm1  # the FiLM folded into the norm's affine is the FiLM after it
    x, scale, shift = torch.randn(2, 32, 5, 7, generator=generator), torch.randn(2, 32, generator=generator), torch.randn(2, 32, generator=generator)
    torch.testing.assert_close(norm(x, scale, shift), norm(x) * (1 + scale[:, :, None, None]) + shift[:, :, None, None])


def test_sampling_is_deterministic_by_default_and_diverse_when_asked():
    import torch

    restorer, reasoner = LiteRestorer.load(), LiteReasoner.load()
    photo = np.asarray(Image.open(f"{DEMO}/rocket-fog-rain.png").convert("RGB"), np.float32)[:128, :128] / 255
    diagnosis = reasoner.diagnose([photo])
    np.testing.assert_array_equal(restorer.restore([photo], diagnosis)[0], restorer.restore([photo], diagnosis)[0])
    group = restorer.sample([photo], diagnosis, n=3, generator=torch.Generator().manual_seed(0))[0]
    assert len(group) == 3 and not np.array_equal(group[0], group[1])


def test_rnr_restore_end_to_end(tmp_path, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.open(f"{DEMO}/coffee-fog-shake.png").crop((0, 0, 300, 200)).save(inputs / "coffee.png")
    Image.open(f"{DEMO}/rocket-fog-rain.png").save(inputs / "rocket.jpg", quality=95)
    (inputs / "notes.png").write_text("not a photo")
    out = tmp_path / "out"
    code = restore_main([str(inputs), str(tmp_path / "missing.png"), "-o", str(out), "--explain", "--json", str(tmp_path / "d.json"), "--side-by-side"])
    captured = capsys.readouterr()
    assert code == 1  # two inputs failed, the others were restored
    assert "missing.png: no such file" in captured.err and "notes.png: not an image" in captured.err
    assert Image.open(out / "coffee.restored.png").size == (300, 200)
    assert Image.open(out / "rocket.restored.png").size == (512, 512)
    assert (out / "rocket.side-by-side.png").is_file()
    assert "Fog: severity" in captured.out and "coffee.png -> " in captured.out
    diagnoses = json.loads((tmp_path / "d.json").read_text())
    assert set(diagnoses) == {str(inputs / "coffee.png"), str(inputs / "rocket.jpg")}
    assert Diagnosis.from_dict(diagnoses[str(inputs / "coffee.png")])  # valid JSON diagnoses
    assert restore_main([str(inputs / "coffee.png")]) == 0 and (inputs / "coffee.restored.png").is_file()
    before = (inputs / "coffee.restored.png").read_bytes()
    assert restore_main([str(inputs / "coffee.png"), str(inputs / "coffee.restored.png")]) == 1  # would overwrite an input
    assert (inputs / "coffee.restored.png").read_bytes() == before
    assert "would overwrite the input" in capsys.readouterr().err
    assert restore_main([str(inputs / "coffee.png"), "--restorer", str(tmp_path / "nope.safetensors")]) == 2


def test_any_reasoner_drives_any_restorer(tmp_path, tiny_qwen3_vl, tiny_qwen_edit_dir, tiny_synth_set, capsys):
    from rnr.cli.train import main as train_main

    photo = tmp_path / "p.png"
    Image.open(f"{DEMO}/coffee-fog-shake.png").crop((0, 0, 64, 48)).save(photo)
    assert restore_main([str(photo), "--reasoner", str(tiny_qwen3_vl), "-o", str(tmp_path / "a")]) == 0
    lora = tmp_path / "lora"
    assert train_main(["--stage", "restorer", "--config", "configs/restorer/tiny.yaml", "--data", str(tiny_synth_set),
                       "--model", str(tiny_qwen_edit_dir), "--output", str(lora), "--max-steps", "1"]) == 0
    from restorer.qwen import QwenEditRestorer

    assert restore_main([str(photo), "--restorer", str(lora), "-o", str(tmp_path / "b"), "--explain"]) == 0
    assert Image.open(tmp_path / "b" / "p.restored.png").size == (64, 48)
    assert isinstance(__import__("rnr.pipeline", fromlist=["load_restorer"]).load_restorer(str(lora)), QwenEditRestorer)


@pytest.fixture(scope="module")
def quality_subset(tmp_path_factory):
    """24 samples of the held-out test photos (skimage), the benchmark's recipe and seed."""
    from pathlib import Path

    from datasets import load_from_disk

    with pytest.MonkeyPatch.context() as patch:  # the benchmarks folder on sys.path for this import only
        patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
        from test_photos import main as write_test_photos

    from rnr.cli.synth import main as synth_main

    folder = tmp_path_factory.mktemp("quality")
    write_test_photos(str(folder / "photos"))
    args = ["--quiet", "--workers", "1", "--input", str(folder / "photos"), "--output", str(folder / "set"),
            "--num", "24", "--size", "256", "--seed", "999", "--config", "configs/lite/synth.yaml"]
    assert synth_main(args) == 0
    dataset = load_from_disk(str(folder / "set"))
    records = [json.loads(r) for r in dataset["record"]]
    clean = [np.asarray(i.convert("RGB"), np.float32) / 255 for i in dataset["clean"]]
    degraded = [np.asarray(i.convert("RGB"), np.float32) / 255 for i in dataset["degraded"]]
    return records, clean, degraded


def test_shipped_weights_keep_their_quality_on_a_fixed_subset(quality_subset):
    """Looser than docs/BENCHMARKS.md's full-test-set numbers, so only a regression fails."""
    from reasoner.accuracy import presence_scores, severity_mae
    from rnr.metrics import psnr

    from rnr.hedge import hedged_restore, restore_all

    records, clean, degraded = quality_subset
    reasoner, restorer = LiteReasoner.load(), LiteRestorer.load()
    diagnoses, hedges = (list(column) for column in zip(*reasoner.diagnose_hedged(degraded)))  # as rnr-restore reads them
    assert diagnoses == reasoner.diagnose(degraded)
    truth = [Diagnosis.from_record(r) for r in records]
    presence = presence_scores(diagnoses, truth)
    for name in ("fog", "shake", "rain", "noise"):
        assert presence[name]["f1"] >= QUALITY[f"{name}_f1"], name
    assert max(severity_mae(diagnoses, truth).values()) <= QUALITY["max_severity_mae"]
    hurt = [i for i, r in enumerate(records) if not r["clean"]]
    full = restore_all(restorer, [degraded[i] for i in hurt], [diagnoses[i] for i in hurt], [hedges[i] for i in hurt])
    blind = restorer.restore([degraded[i] for i in hurt], [None] * len(hurt))
    before = np.mean([psnr(degraded[i], clean[i]) for i in hurt])
    with_diagnosis = np.mean([psnr(out, clean[i]) for out, i in zip(full, hurt)])
    without = np.mean([psnr(out, clean[i]) for out, i in zip(blind, hurt)])
    assert with_diagnosis - before >= QUALITY["psnr_gain_db"]
    assert with_diagnosis > without  # the reasoning helps
    for i, r in enumerate(records):
        if r["clean"]:
            assert diagnoses[i].is_clean, f"false alarm on clean sample {i}"
            assert psnr(hedged_restore(restorer, degraded[i], diagnoses[i], hedges[i]), degraded[i]) >= 35
    # a soft (slightly out of focus) clean photo is not a shaken one, and comes back nearly as it was
    soft = [cv2.GaussianBlur(clean[i], (0, 0), 1.2) for i, r in enumerate(records) if r["clean"]]
    soft_readings = reasoner.diagnose_hedged(soft)
    assert not any(d.shake.present for d, _ in soft_readings)
    for photo, (diagnosis, hedge) in zip(soft, soft_readings):
        assert psnr(hedged_restore(restorer, photo, diagnosis, hedge), photo) >= 35


def _presence_probabilities(weights, data) -> tuple[np.ndarray, np.ndarray]:
    """The reasoner's presence probabilities on a set, and the set's truth, computed here from the public API."""
    import torch

    from reasoner.lite import split_outputs
    from rnr.diagnosis import DEGRADATIONS
    from rnr.pairs import load_pairs

    pairs = load_pairs(str(data))
    logits = split_outputs(LiteReasoner.load(weights).predict(list(pairs.degraded)))[0]
    present = np.array([[r[name]["present"] for name in DEGRADATIONS] for r in pairs.records], bool)
    return torch.sigmoid(logits).numpy(), present


def test_calibrated_thresholds_travel_in_the_weights_file(tmp_path, tiny_synth_set):
    import shutil

    from reasoner.accuracy import f_score
    from reasoner.lite import WEIGHTS
    from reasoner.lite_train import THRESHOLD_GRID, calibrate_file

    weights = tmp_path / "r.safetensors"
    shutil.copy(WEIGHTS, weights)
    thresholds = calibrate_file(weights, str(tiny_synth_set))
    # each cut-off is the highest of the grid that reaches the best F1 on the set (reasoner.accuracy's F1)
    probabilities, present = _presence_probabilities(weights, tiny_synth_set)
    for column, cut in enumerate(thresholds):
        scores = {grid: f_score(probabilities[:, column] >= grid, present[:, column]) for grid in THRESHOLD_GRID}
        assert scores[cut] == max(scores.values()), (column, cut, scores)
        assert cut == max(grid for grid, f in scores.items() if f == scores[cut]), (column, cut, scores)
    reloaded = LiteReasoner.load(weights)
    assert reloaded.thresholds == thresholds
    np.testing.assert_array_equal(reloaded.model.stages[0][0].weight.detach(), LiteReasoner.load().model.stages[0][0].weight.detach())
    lenient = calibrate_file(weights, str(tiny_synth_set), tolerance=0.2)  # near-best F1 allowed: higher cut-offs
    assert all(a >= b for a, b in zip(lenient, thresholds)) and LiteReasoner.load(weights).thresholds == lenient
    strict = LiteReasoner(model=reloaded.model, thresholds=(1.01,) * 4)  # above any probability: nothing is ever present
    assert strict.diagnose([np.full((64, 64, 3), 0.5, np.float32)])[0].is_clean


def test_calibration_keeps_each_cut_off_at_or_above_the_configured_minimum(tmp_path, tiny_synth_set):
    import shutil

    from safetensors import safe_open

    from reasoner.lite import WEIGHTS
    from reasoner.lite_train import LiteReasonerConfig, calibrate_file

    weights = tmp_path / "r.safetensors"
    shutil.copy(WEIGHTS, weights)
    calibrated = calibrate_file(weights, str(tiny_synth_set))
    minimum = (0.0, 0.9, 0.0, 0.95)
    floored = calibrate_file(weights, str(tiny_synth_set), minimum=minimum)
    assert floored == (calibrated[0], max(calibrated[1], 0.9), calibrated[2], max(calibrated[3], 0.95))
    assert LiteReasoner.load(weights).thresholds == floored
    with safe_open(str(weights), "pt") as handle:  # the file says what calibration chose and what raised it
        metadata = handle.metadata()
    assert json.loads(metadata["calibrated_thresholds"]) == list(calibrated)
    assert json.loads(metadata["minimum_thresholds"]) == list(minimum)
    with pytest.raises(ValueError, match=r"minimum_thresholds: give 4 cut-offs \(fog, shake, rain, noise\), not 1"):
        LiteReasonerConfig(minimum_thresholds=(0.6,))


def test_a_cut_off_chosen_on_restored_photos_is_written_with_what_chose_it(tmp_path):
    import shutil

    from safetensors import safe_open

    from reasoner.lite import WEIGHTS
    from reasoner.lite_train import set_cutoff

    weights = tmp_path / "r.safetensors"
    shutil.copy(WEIGHTS, weights)
    before = LiteReasoner.load(weights).thresholds
    with safe_open(str(weights), "pt") as handle:
        calibrated_on = handle.metadata()["calibrated_on"]
    assert set_cutoff(weights, "shake", 0.33, "a test") == (before[0], 0.33, before[2], before[3])
    assert LiteReasoner.load(weights).thresholds == (before[0], 0.33, before[2], before[3])
    with safe_open(str(weights), "pt") as handle:  # what calibration recorded stays; the new choice is named
        metadata = handle.metadata()
    assert metadata["calibrated_on"] == calibrated_on and metadata["shake_cutoff_chosen_by"] == "a test"
    with pytest.raises(ValueError, match="blur: not a degradation; choose one of fog, shake, rain, noise"):
        set_cutoff(weights, "blur", 0.5, "a test")


def test_edge_sharpness_reads_blur_along_its_direction_whatever_the_contrast():
    import torch

    from reasoner.lite_net import edge_sharpness

    step = torch.zeros(1, 3, 64, 64)
    step[..., 32:] = 1.0  # a vertical edge: steep along x (first feature), flat along y (second)
    smeared = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(step, (3, 2, 0, 0), mode="replicate"), (1, 6), 1)
    sharp, blurred, hazy = edge_sharpness(step)[0], edge_sharpness(smeared)[0], edge_sharpness(0.4 * step + 0.5)[0]
    assert sharp[0] == pytest.approx(0.5, abs=0.01) and sharp[1] == pytest.approx(0.0, abs=1e-6)
    assert 1 / 6 <= blurred[0] < 0.25  # a ramp over 6 pixels: ~1/6 (windows on its ends see less than its height)
    assert blurred[0] < blurred[4] < sharp[4]  # at half scale the ramp is 3 pixels long
    assert hazy[0] == pytest.approx(0.5, abs=0.01)  # fog-like loss of contrast: unchanged


def test_restorer_fine_tunes_from_weights_on_the_reasoners_own_diagnoses(tmp_path, tiny_synth_set):
    from reasoner.lite import WEIGHTS as REASONER_WEIGHTS
    from restorer.lite import SFT_WEIGHTS
    from restorer.lite_train import LiteRestorerConfig, predicted_conditions, train
    from rnr.encoding import encode
    from rnr.pairs import load_pairs

    pairs = load_pairs(str(tiny_synth_set))
    predicted = predicted_conditions(str(REASONER_WEIGHTS), pairs.degraded)
    reasoner = LiteReasoner.load()
    expected = [encode(d) for d in reasoner.diagnose([image.astype(np.float32) / 255 for image in pairs.degraded])]
    np.testing.assert_allclose(predicted.numpy(), np.stack(expected))
    config = LiteRestorerConfig(data=str(tiny_synth_set), output=str(tmp_path / "ft"), max_steps=2, batch_size=2, crop=32,
                                learning_rate=1e-3, reasoner=str(REASONER_WEIGHTS), predicted_share=1.0, init=str(SFT_WEIGHTS), logging_steps=1)
    tuned = LiteRestorer.load(train(config) / "lite-restorer.safetensors").model.state_dict()
    start = LiteRestorer.load(SFT_WEIGHTS).model.state_dict()
    steps = [float(np.abs(start[name].numpy() - tuned[name].numpy()).max()) for name in start]
    assert max(steps) > 0  # it trained
    assert max(steps) < 0.01  # two Adam steps from the SFT weights, not a fresh network's zero outlet


def test_reasoner_fine_tunes_from_weights(tmp_path, tiny_synth_set):
    from reasoner.lite import WEIGHTS
    from reasoner.lite_train import LiteReasonerConfig, train

    config = LiteReasonerConfig(data=str(tiny_synth_set), output=str(tmp_path / "ft"), max_steps=2, batch_size=2, crop=32,
                                learning_rate=1e-4, init=str(WEIGHTS), logging_steps=1)
    tuned_reasoner = LiteReasoner.load(train(config) / "lite-reasoner.safetensors")
    assert tuned_reasoner.thresholds == LiteReasoner.load().thresholds != LiteReasoner.thresholds  # not recalibrated: kept
    tuned, start = tuned_reasoner.model.state_dict(), LiteReasoner.load().model.state_dict()
    steps = [float(np.abs(start[name].numpy() - tuned[name].numpy()).max()) for name in start]
    assert max(steps) > 0  # it trained
    assert max(steps) < 0.01  # two small Adam steps from the shipped weights, not a fresh network


def test_a_head_refit_moves_the_head_only_and_needs_weights_to_start_from(tmp_path, tiny_synth_set):
    from reasoner.lite import WEIGHTS
    from reasoner.lite_train import LiteReasonerConfig, train
    from rnr.config import ConfigError

    config = LiteReasonerConfig(data=str(tiny_synth_set), output=str(tmp_path / "head"), max_steps=3, batch_size=4,
                                learning_rate=1e-3, init=str(WEIGHTS), logging_steps=1, head_only=True)
    tuned, start = (LiteReasoner.load(path).model.state_dict() for path in (train(config) / "lite-reasoner.safetensors", WEIGHTS))
    moved = {name for name in start if not torch.equal(start[name], tuned[name])}
    assert moved == {name for name in start if name.startswith("head.")}  # every head tensor, nothing else
    with pytest.raises(ConfigError, match="head_only: give the weights whose head to refit"):
        train(dataclasses.replace(config, init=""))


def test_the_head_refits_small_views_are_crops_of_the_drawn_sides_and_only_of_larger_views():
    from reasoner.lite_train import LiteReasonerConfig, small_view

    view = torch.arange(3 * 300 * 400, dtype=torch.float32).reshape(1, 3, 300, 400)
    rng = np.random.default_rng(0)
    shapes = set()
    for _ in range(50):
        crop = small_view(view, (64, 128), rng)
        height, width = crop.shape[-2:]
        assert 64 <= height <= 128 and 64 <= width <= 128
        top, left = divmod(int(crop[0, 0, 0, 0]), 400)  # the crop's first value says where it was cut
        assert torch.equal(crop, view[..., top:top + height, left:left + width])
        shapes.add((height, width))
    assert len(shapes) > 25  # sides drawn, not fixed
    assert small_view(view[..., :128, :], (64, 128), rng) is None  # a view that small is read whole already
    with pytest.raises(ValueError, match=r"^head_small_views: give the shortest and the longest side, 32 px or more, not \[256, 64\]$"):
        LiteReasonerConfig(head_only=True, head_small_views=(256, 64))


def test_shipped_weights_leave_clean_photos_alone_at_full_size_and_grey_ones_grey():
    """The five held-out skimage photos as they are (clean): returned within 40 dB; greyscale ones stay greyscale."""
    from skimage import data as skdata

    from rnr.metrics import psnr

    reasoner, restorer = LiteReasoner.load(), LiteRestorer.load()
    photos = [skdata.astronaut(), skdata.chelsea(), skdata.coffee(), skdata.rocket(), skdata.stereo_motorcycle()[0]]
    photos = [p.astype(np.float32) / 255 for p in photos]
    restored = restorer.restore(photos, reasoner.diagnose(photos))
    assert min(psnr(out, photo) for out, photo in zip(restored, photos)) >= 40
    grey = [np.repeat(p.mean(axis=2, keepdims=True), 3, axis=2) for p in photos[:2]]
    foggy = [g * 0.6 + 0.4 * 0.85 for g in grey]  # a grey haze over a greyscale photo
    for out in restorer.restore(foggy, reasoner.diagnose(foggy)):
        assert float(np.ptp(out, axis=2).max()) == 0.0
