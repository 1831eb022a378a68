"""The shake kernel estimated from the photo (restorer/kernels.py) and how the priors, restorer and training use it."""

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from degradations import shake as shake_model
from restorer.classical import line_kernel
from restorer.kernels import estimate_kernel, textured_window
from restorer.lite import LiteRestorer, photo_kernel
from restorer.lite_net import LiteRestorationNet
from restorer.lite_train import training_kernels
from restorer.priors import deblur_kernels, wiener_deblur
from rnr import Diagnosis, Finding
from rnr.encoding import encode
from rnr.imageio import read_image
from rnr.metrics import psnr

PHOTOS = Path(__file__).resolve().parents[1] / "rnr" / "assets" / "photos"


def _garden(width: int = 256) -> np.ndarray:
    image = read_image(PHOTOS / "mate-garden.jpg")  # float32 in [0, 1]
    return cv2.resize(image, (width, round(width * image.shape[0] / image.shape[1])), interpolation=cv2.INTER_AREA)


def _walk(seed: int, size: int = 15) -> np.ndarray:
    """A curved random-walk shake kernel (the synthesizer's, turning fast)."""
    config = shake_model.ShakeConfig(kernel_size=(size, size), turn=(0.4, 0.6), steps=(32, 64))
    return shake_model.sample_params(np.random.default_rng(seed), config).kernel


def _diagnosis_of(kernel: np.ndarray) -> Diagnosis:
    """The shake finding the synthesizer would record for this kernel (its moments only, as a reasoner predicts)."""
    stats = shake_model.kernel_stats(kernel)
    params = {"direction_deg": stats.direction_deg, "length_px": stats.length_px, "energy": stats.energy, "kernel_size": stats.kernel_size}
    return Diagnosis(shake=Finding(True, shake_model.severity(stats.r_rms, stats.kernel_size), params))


def _tensor(image):
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]


def _correlation(a, b) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def test_the_estimate_finds_a_random_walk_that_the_diagnosed_line_only_approximates():
    photo = _garden()
    for seed, brightness in ((4, 1.0), (6, 0.1)):  # a dark photo too: the estimate stretches its range first
        photo = _garden() * brightness
        truth = _walk(seed)
        blurred = shake_model.apply(photo, shake_model.ShakeParams(kernel=truth))
        found = estimate_kernel(blurred.mean(axis=2), 15)
        assert found.shape == (15, 15) and found.dtype == np.float32 and found.sum() == pytest.approx(1.0)
        line, _ = deblur_kernels(torch.from_numpy(encode(_diagnosis_of(truth)))[None], 15)
        assert _correlation(found, truth) > 0.8
        assert _correlation(found, truth) > _correlation(line[0].numpy(), truth) + 0.3  # the line: 0.44 and 0.45


def test_deconvolving_with_the_estimate_restores_more_than_the_line_kernel():
    photo = _garden()
    truth = _walk(4)
    blurred = shake_model.apply(photo, shake_model.ShakeParams(kernel=truth))
    condition = torch.from_numpy(encode(_diagnosis_of(truth)))[None]
    kernel = photo_kernel(blurred, condition)
    assert kernel.shape == (1, 15, 15)  # the diagnosed size
    with_line = wiener_deblur(_tensor(blurred), condition)[0].permute(1, 2, 0).numpy()
    with_estimate = wiener_deblur(_tensor(blurred), condition, estimated=kernel)[0].permute(1, 2, 0).numpy()
    assert psnr(with_estimate, photo) > psnr(with_line, photo) + 1.0
    assert psnr(with_estimate, photo) > psnr(blurred, photo) + 2.0


def test_no_kernel_is_estimated_or_used_where_no_shake_is_diagnosed():
    photo = _garden(128)
    noisy_only = torch.from_numpy(encode(Diagnosis(noise=Finding(True, 30.0, {"k": 0.1, "b": 2.0, "sigma_mean": 0.02}))))[None]
    assert photo_kernel(photo, noisy_only) is None
    rainy_shake = Diagnosis(shake=_diagnosis_of(_walk(4)).shake,
                            rain=Finding(True, 30.0, {"density": 0.002, "slant_deg": 10.0, "length_px": 20.0, "width_px": 1.5, "opacity": 0.6}))
    assert photo_kernel(photo, torch.from_numpy(encode(rainy_shake))[None]) is None  # sharp streaks over the blur: the line kernel
    estimate = torch.from_numpy(_walk(4))[None]
    kernels, from_photo = deblur_kernels(noisy_only, 31, estimate)
    assert float(kernels.abs().sum()) == 0.0 and not bool(from_photo[0])  # an estimate alone does not make a shake
    shaken = torch.from_numpy(encode(_diagnosis_of(_walk(4))))[None]
    kernels, from_photo = deblur_kernels(shaken.expand(2, -1), 31, torch.stack([estimate[0], torch.zeros(15, 15)]))
    assert bool(from_photo[0]) and not bool(from_photo[1])  # an empty estimate falls back to the line kernel
    assert torch.allclose(kernels[0, 8:23, 8:23], estimate[0]) and float(kernels[1].sum()) == pytest.approx(1.0, abs=1e-5)


def test_a_photo_too_small_for_its_kernel_is_refused_by_the_estimator_and_skipped_by_the_restorer():
    with pytest.raises(ValueError, match=r"a \(20, 20\) image is too small to estimate a 15 px kernel from: give at least 30 px a side"):
        estimate_kernel(np.zeros((20, 20), np.float32), 15)
    condition = torch.from_numpy(encode(_diagnosis_of(_walk(4))))[None]
    assert photo_kernel(_garden(256)[:40, :40], condition) is None  # under 4 kernels a side: the line kernel


def test_the_window_is_the_textured_part_of_the_photo():
    photo = np.full((300, 400), 0.5, np.float32)
    photo[180:260, 250:380] = np.random.default_rng(0).random((80, 130), dtype=np.float32)  # texture on a flat sky
    top, left = textured_window(photo, 128)
    assert top <= 180 and top + 128 >= 260 and 250 <= left and left + 128 <= 380  # all texture, none of the sky


def test_the_restorer_deconvolves_each_tile_with_the_photos_one_kernel():
    photo = _garden(160)
    truth = _walk(6)
    blurred = shake_model.apply(photo, shake_model.ShakeParams(kernel=truth))
    diagnosis = _diagnosis_of(truth)
    restorer = LiteRestorer(model=LiteRestorationNet().eval(), tile=64, overlap=8)  # untrained: it returns the prior
    condition = restorer.condition_for(blurred, diagnosis)
    whole = wiener_deblur(_tensor(blurred), condition, estimated=photo_kernel(blurred, condition))[0].permute(1, 2, 0).numpy()
    tiled = restorer.restore([blurred], [diagnosis])[0]
    assert psnr(tiled, photo) > psnr(blurred, photo) + 1.5  # every tile deblurred with the whole photo's estimate
    assert psnr(tiled, whole) > 28  # the same picture, up to tile borders


def test_training_estimates_each_shaken_image_whole_and_leaves_the_rest_empty():
    photo = (_garden() * 255).astype(np.uint8)
    truth = _walk(4)
    blurred = (shake_model.apply(photo.astype(np.float32) / 255, shake_model.ShakeParams(kernel=truth)) * 255 + 0.5).astype(np.uint8)
    conditions = torch.from_numpy(np.stack([encode(_diagnosis_of(truth)), encode(Diagnosis())]))
    kernels = training_kernels([blurred, photo], conditions)
    assert kernels.shape == (2, 15, 15)
    assert float(kernels[0].sum()) == pytest.approx(1.0, abs=1e-5) and float(kernels[1].abs().sum()) == 0.0
    assert _correlation(kernels[0], truth) > 0.7
