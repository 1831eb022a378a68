"""Lite v2's design, independent of trained weights: physical priors, do-no-harm, consistent diagnoses, perturbed training."""

import math

import numpy as np
import pytest
import torch

from degradations import fog as fog_model
from degradations import noise as noise_model
from degradations import shake as shake_model
from reasoner.lite import LiteReasoner, self_consistent
from restorer.lite import LiteRestorer, keep_greyscale, photo_haze, photo_kernel
from restorer.lite_net import LiteRestorationNet
from restorer.priors import fog_inversion, is_greyscale, map_haze, nlm_denoise, wiener_deblur
from rnr import Diagnosis, Finding
from rnr.encoding import encode, param_offset, param_slot
from rnr.metrics import psnr


def _photo(size=96):
    """A smooth, textured test scene (no photo file needed)."""
    y, x = np.mgrid[0:size, 0:size] / size
    scene = np.stack([0.5 + 0.3 * np.sin(9 * x + 3 * y), 0.5 + 0.3 * np.cos(7 * y), 0.4 + 0.3 * np.sin(5 * (x + y))], -1)
    squares = ((np.floor(x * 8) + np.floor(y * 8)) % 2) * 0.3
    return np.clip(scene * 0.7 + squares[..., None], 0, 1).astype(np.float32)


def _tensor(image):
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]


def test_the_deblurring_prior_undoes_a_diagnosed_line_blur():
    from restorer.classical import line_kernel

    clean = _photo()
    kernel = line_kernel(30.0, 3.0, 0.6)
    blurred = shake_model.apply(clean, shake_model.ShakeParams(kernel=kernel.astype(np.float32)))
    stats = shake_model.kernel_stats(kernel)
    params = {"direction_deg": stats.direction_deg, "length_px": stats.length_px, "energy": stats.energy, "kernel_size": stats.kernel_size}
    diagnosis = Diagnosis(shake=Finding(True, shake_model.severity(stats.r_rms, stats.kernel_size), params))
    deblurred = wiener_deblur(_tensor(blurred), torch.from_numpy(encode(diagnosis))[None])[0].permute(1, 2, 0).numpy()
    assert psnr(deblurred, clean) > psnr(blurred, clean) + 0.5  # regularised for kernels it only approximates
    untouched = wiener_deblur(_tensor(blurred), torch.from_numpy(encode(Diagnosis()))[None])
    assert torch.equal(untouched, _tensor(blurred))  # no shake diagnosed: the image as it is
    # the restorer's residual is based on the deconvolution (with the kernel it estimates from the photo,
    # tests/test_kernels.py): untrained, it returns exactly that
    restorer = LiteRestorer(model=LiteRestorationNet().eval())
    condition = restorer.condition_for(blurred, diagnosis)
    estimated = wiener_deblur(_tensor(blurred), condition, estimated=photo_kernel(blurred, condition))[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(restorer.restore([blurred], [diagnosis])[0], estimated, atol=1e-6)


def test_fog_inversion_keeps_a_greyscale_photo_grey():
    grey = np.repeat(_photo()[..., :1], 3, axis=2)
    foggy = grey * 0.5 + 0.5 * 0.8  # t = 0.5, grey airlight 0.8
    teal = Diagnosis(fog=Finding(True, fog_model.severity(0.5), {"atmospheric_light": [0.7, 0.85, 0.9], "beta": 1.0, "t_mean": 0.5}))
    inverted = fog_inversion(_tensor(foggy), torch.from_numpy(encode(teal))[None])
    assert bool(is_greyscale(inverted)[0])  # a coloured airlight estimate does not tint it
    assert float(np.ptp(keep_greyscale(grey, np.random.default_rng(0).random(grey.shape, dtype=np.float32)), axis=2).max()) == 0.0


def test_an_untrained_restorer_returns_a_greyscale_photo_greyscale():
    grey = np.repeat(_photo(64)[..., :1], 3, axis=2)
    restorer = LiteRestorer(model=LiteRestorationNet().eval())
    noisy = Diagnosis(noise=Finding(True, 30.0, {"k": 0.1, "b": 2.0, "sigma_mean": 0.015}))
    out = restorer.restore([grey], [noisy])[0]
    assert float(np.ptp(out, axis=2).max()) == 0.0


def test_param_slot_finds_each_parameter_where_encode_writes_it():
    diagnosis = Diagnosis(noise=Finding(True, 40.0, {"k": 0.15, "b": 4.0, "sigma_mean": 0.02}),
                          shake=Finding(True, 20.0, {"direction_deg": 0.0, "length_px": 3.5, "energy": 0.2, "kernel_size": 15}))
    vector = encode(diagnosis)
    for name, parameter, value in (("noise", "sigma_mean", 0.02), ("shake", "length_px", 3.5), ("shake", "kernel_size", 15)):
        index, scale = param_slot(name, parameter)
        assert vector[index] / scale == pytest.approx(value)
    assert param_slot("noise", "k")[0] == param_offset("noise")
    with pytest.raises(KeyError, match="no parameter 'nope'"):
        param_slot("fog", "nope")


def test_the_denoising_prior_filters_only_a_diagnosed_noise():
    clean = _photo(64)
    noisy = np.clip(clean + np.random.default_rng(3).normal(0, 0.06, clean.shape), 0, 1).astype(np.float32)
    diagnosis = Diagnosis(noise=Finding(True, noise_model.severity(0.06), {"k": 0.0, "b": 15.0, "sigma_mean": 0.06}))
    denoised = nlm_denoise(_tensor(noisy), torch.from_numpy(encode(diagnosis))[None])[0].permute(1, 2, 0).numpy()
    assert psnr(denoised, clean) > psnr(noisy, clean) + 1.5
    untouched = nlm_denoise(_tensor(noisy), torch.from_numpy(encode(Diagnosis()))[None])
    assert torch.equal(untouched, _tensor(noisy))


def _fog(t_mean):
    return Diagnosis(fog=Finding(True, fog_model.severity(t_mean), {"atmospheric_light": [0.8, 0.8, 0.8], "beta": 1.0, "t_mean": t_mean}))


def test_fog_inversion_never_removes_more_haze_than_diagnosed():
    hazy = _photo() * 0.4 + 0.6 * 0.8  # t = 0.4 everywhere: the dark-channel map reads dense haze
    for t_mean in (0.4, 0.9):
        condition = torch.from_numpy(encode(_fog(t_mean)))[None]
        inverted = fog_inversion(_tensor(hazy), condition)[0].permute(1, 2, 0).numpy()
        # J = (I − A(1 − t)) / t, so the haze the inversion assumed is read back from the mean levels
        assumed_t = (hazy - 0.8).mean() / (inverted - 0.8).mean()
        if t_mean == 0.9:  # a mild diagnosis: the map is scaled down to it
            assert 1 - assumed_t == pytest.approx(1 - t_mean, abs=0.03)
        else:  # as dense as the map, or denser: the map as it reads
            assert 1 - assumed_t < float(map_haze(_tensor(hazy), condition)[0]) + 0.03
    mild = torch.from_numpy(encode(_fog(0.9)))[None]
    whole = fog_inversion(_tensor(hazy), mild)
    half = fog_inversion(_tensor(hazy[:, :48]), mild, map_haze(_tensor(hazy), mild))  # a tile, told the photo's haze
    torch.testing.assert_close(half[..., 4:-20], whole[..., :48][..., 4:-20], atol=0.02, rtol=0)


def test_a_large_photo_measures_its_haze_once_for_all_tiles():
    photo = np.tile(_photo(), (6, 6, 1))[:500, :540] * 0.5 + 0.4
    condition = torch.from_numpy(encode(_fog(0.8)))[None]
    whole = float(map_haze(_tensor(photo.astype(np.float32)), condition)[0])
    reduced = float(photo_haze(photo.astype(np.float32), condition, side=270)[0])  # half size, as a large photo is read
    assert 0 < reduced == pytest.approx(whole, abs=0.05)


def test_a_diagnosis_is_self_consistent():
    raw = Diagnosis(
        fog=Finding(True, 3.0, {"atmospheric_light": [0.9, 0.9, 0.9], "beta": 1.0, "t_mean": 0.35}),
        shake=Finding(True, 2.0, {"direction_deg": 10.0, "length_px": 6.0, "energy": 0.1, "kernel_size": 31}),
        noise=Finding(True, 10.0, {"k": 0.1, "b": 1.0, "sigma_mean": 0.03}),
    )
    fixed = self_consistent(raw)
    assert fixed.fog.severity == 3.0 and fixed.fog.params["t_mean"] == pytest.approx(fog_model.t_mean_for(3.0), abs=1e-3)
    assert fog_model.severity(fixed.fog.params["t_mean"]) == pytest.approx(fixed.fog.severity, abs=0.1)
    assert fixed.noise.severity == pytest.approx(noise_model.severity(0.03), abs=0.05)
    assert fixed.shake.severity == pytest.approx(shake_model.severity(6.0, 31), abs=0.05)  # r_rms >= length


def test_the_lite_reasoner_diagnoses_tiny_images_and_its_diagnoses_agree_with_themselves():
    reasoner = LiteReasoner.load()
    rng = np.random.default_rng(3)
    images = [rng.random(shape, dtype=np.float32) for shape in ((1, 1, 3), (7, 5, 3), (16, 16, 3), (200, 300, 3))]
    for diagnosis in reasoner.diagnose(images):
        if diagnosis.fog.present:
            assert fog_model.severity(diagnosis.fog.params["t_mean"]) == pytest.approx(diagnosis.fog.severity, abs=0.2)
        if diagnosis.noise.present:
            assert diagnosis.noise.severity == pytest.approx(noise_model.severity(diagnosis.noise.params["sigma_mean"]), abs=0.2)


def test_perturbed_training_diagnoses_err_like_a_diagnoser():
    from restorer.lite_train import LiteRestorerConfig, perturb

    fog = Diagnosis(fog=Finding(True, 50.0, {"atmospheric_light": [0.9, 0.9, 0.9], "beta": 1.0, "t_mean": 0.5}))
    pool = torch.from_numpy(np.stack([encode(fog), encode(Diagnosis())] * 100))
    config = LiteRestorerConfig(perturb_share=1.0, false_alarm=0.5, miss=0.5)
    out = perturb(pool, pool, torch.Generator().manual_seed(0), config)
    again = perturb(pool, pool, torch.Generator().manual_seed(0), config)
    assert torch.equal(out, again)  # its own generator: reproducible
    foggy, clean = out[0::2], out[1::2]
    assert 0.3 < float((foggy[:, 0] == 0).float().mean()) < 0.7  # about half missed
    assert 0.3 < float((clean[:, 0] == 1).float().mean()) < 0.7  # about half of the clean ones given a false alarm
    kept = foggy[foggy[:, 0] == 1]
    assert float(kept[:, 4].std()) > 0.02 and not torch.allclose(kept[:, 4], torch.full_like(kept[:, 4], 0.5))  # severities wobble
    assert torch.equal(perturb(pool, pool, torch.Generator().manual_seed(0), LiteRestorerConfig(perturb_share=0.0)), pool)


def test_lite_configs_refuse_values_that_cannot_train():
    from reasoner.lite_train import LiteReasonerConfig
    from restorer.lite_train import LiteRestorerConfig
    from rnr.config import ConfigError

    with pytest.raises(ConfigError, match="logging_steps must be at least 1, got 0"):
        LiteRestorerConfig(logging_steps=0)
    with pytest.raises(ConfigError, match=r"perturb_share must be in \[0, 1\], got 1.5"):
        LiteRestorerConfig(perturb_share=1.5)
    with pytest.raises(ConfigError, match="max_steps must be at least 1, got 0"):
        LiteReasonerConfig(max_steps=0)


def test_training_leaves_the_global_random_state_alone(tmp_path, tiny_synth_set):
    from restorer.lite_train import LiteRestorerConfig, train

    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    config = LiteRestorerConfig(data=f"{tiny_synth_set},{tiny_synth_set}", output=str(tmp_path / "r"), max_steps=3, batch_size=2, crop=32, logging_steps=1)
    first = LiteRestorer.load(train(config) / "lite-restorer.safetensors").model.state_dict()
    assert torch.equal(torch.random.get_rng_state(), before)
    second = LiteRestorer.load(train(config) / "lite-restorer.safetensors").model.state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)  # the seed alone decides
    start = LiteRestorationNet().state_dict()
    assert any(not torch.equal(first[k], start[k]) for k in first if k.endswith("outlet.weight"))  # it trained


def test_t_mean_for_inverts_the_fog_severity():
    for t in (0.05, 0.3, 0.77, 1.0):
        assert fog_model.t_mean_for(fog_model.severity(t)) == pytest.approx(t, abs=1e-9)
    assert math.isclose(fog_model.t_mean_for(250.0), 0.05)


@pytest.mark.parametrize("tile", ["32", "8", "-16"])
def test_rnr_restore_refuses_a_tile_too_small_in_one_line(tmp_path, capsys, tile):
    from PIL import Image

    from rnr.cli.restore import main as restore_main

    photo = tmp_path / "p.png"
    Image.fromarray((_photo(40) * 255).astype(np.uint8)).save(photo)
    assert restore_main([str(photo), "--tile", tile]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"rnr-restore: --tile {tile}: too small; tiles overlap by 32 px on each side, so use at least --tile 128 (default 512)"]
    assert not (tmp_path / "p.restored.png").exists()


def test_the_psnr_loss_is_minus_the_mean_psnr_and_weighs_good_crops():
    from restorer.lite_train import LiteRestorerConfig, restoration_loss
    from rnr.config import ConfigError

    clean = torch.zeros(2, 3, 8, 8)
    restored = clean.clone()
    restored[0] += 0.1  # MSE 0.01: 20 dB
    restored[1] += 0.01  # MSE 1e-4: 40 dB (39.6 with the 1e-5 floor)
    loss = restoration_loss(restored, clean, "psnr")
    assert float(loss) == pytest.approx(5 * (math.log10(0.01 + 1e-5) + math.log10(1e-4 + 1e-5)), abs=1e-3)
    assert float(restoration_loss(restored, clean, "l1")) == pytest.approx(0.055, abs=1e-6)
    restored.requires_grad_(True)
    restoration_loss(restored, clean, "psnr").backward()
    per_crop = restored.grad.abs().flatten(1).sum(dim=1)
    assert float(per_crop[1]) > 5 * float(per_crop[0])  # the nearly clean crop pulls harder
    with pytest.raises(ConfigError, match="loss must be l1 or psnr, got 'l2'"):
        LiteRestorerConfig(loss="l2")


def test_rnr_restore_takes_photos_of_a_few_pixels(tmp_path):
    from PIL import Image

    from rnr.cli.restore import main as restore_main

    sizes = [(1, 1), (7, 5), (12, 12), (16, 9)]
    for width, height in sizes:
        Image.fromarray((np.random.default_rng(width).random((height, width, 3)) * 255).astype(np.uint8)).save(tmp_path / f"p{width}x{height}.png")
    assert restore_main([str(tmp_path / f"p{w}x{h}.png") for w, h in sizes] + ["-o", str(tmp_path / "out")]) == 0
    assert [Image.open(tmp_path / "out" / f"p{w}x{h}.restored.png").size for w, h in sizes] == sizes
