"""Each degradation against hand-computed values: formulas, clamps, kernels, statistics."""

import numpy as np
import pytest

from degradations import fog, noise, rain, shake


# --- severity formulas -------------------------------------------------------------
def test_fog_severity_from_mean_transmission():
    assert fog.severity(1.0) == 1.0
    assert fog.severity(0.05) == 100.0
    assert fog.severity(0.525) == pytest.approx(50.5)  # (1-0.525)/0.95 = 0.5
    assert fog.severity(0.81) == pytest.approx((1 - 0.81) / 0.95 * 99 + 1)


def test_shake_severity_from_rms_radius():
    assert shake.severity(0.0, 31) == 1.0
    assert shake.severity(7.5, 31) == pytest.approx(50.5)  # r_max = 15
    assert shake.severity(99.0, 31) == 100.0  # clipped


def test_rain_severity_from_coverage():
    assert rain.severity(0.0) == 1.0
    assert rain.severity(0.25) == pytest.approx(25.75)
    assert rain.severity(1.0) == 100.0


def test_noise_severity_from_mean_sigma():
    assert noise.severity(0.0) == 1.0
    assert noise.severity(0.01) == pytest.approx(0.01 / 0.05 * 99 + 1)
    assert noise.severity(0.2) == 100.0


# --- fog ---------------------------------------------------------------------------
def test_transmission_is_exp_of_scaled_depth_clamped_to_005_and_1():
    depth = np.array([[0.0, 0.5, 1.0]], np.float32)
    t = fog.transmission(depth, beta=3.0)
    assert t[0, 0] == 1.0
    assert t[0, 1] == pytest.approx(np.exp(-1.5), rel=1e-6)
    assert t[0, 2] == pytest.approx(0.05)  # exp(-3) = 0.0498 is clamped up
    assert fog.transmission(np.full((2, 2), -1.0, np.float32), 1.0).max() == 1.0  # and down to 1


def test_fog_blends_scene_and_atmospheric_light():
    image = np.full((4, 4, 3), 0.2, np.float32)
    params = fog.FogParams(atmospheric_light=(0.9, 0.8, 0.7), beta=1.0)
    t = np.full((4, 4), 0.25, np.float32)
    out = fog.apply(image, params, t)
    np.testing.assert_allclose(out[0, 0], [0.2 * 0.25 + a * 0.75 for a in (0.9, 0.8, 0.7)], rtol=1e-6)


def test_fog_params_come_from_the_paper_ranges():
    rng = np.random.default_rng(0)
    draws = [fog.sample_params(rng) for _ in range(200)]
    assert all(0.7 <= a <= 1.0 for d in draws for a in d.atmospheric_light)
    assert all(0.8 <= d.beta <= 3.0 for d in draws)


# --- shake -------------------------------------------------------------------------
def test_sampled_kernels_are_normalised_odd_and_non_negative():
    rng = np.random.default_rng(1)
    for _ in range(50):
        kernel = shake.sample_params(rng).kernel
        assert kernel.dtype == np.float32 and kernel.shape[0] == kernel.shape[1]
        assert kernel.shape[0] % 2 == 1 and 9 <= kernel.shape[0] <= 31
        assert kernel.min() >= 0 and kernel.sum() == pytest.approx(1.0, abs=1e-5)


def _line_kernel(size: int, cells) -> np.ndarray:
    kernel = np.zeros((size, size), np.float32)
    for row, col in cells:
        kernel[row, col] = 1.0
    return kernel / kernel.sum()


def test_straight_horizontal_kernel_stats():
    kernel = _line_kernel(31, [(15, c) for c in range(31)])  # 31 px, m = 15
    stats = shake.kernel_stats(kernel)
    assert stats.direction_deg == pytest.approx(0.0, abs=1e-6)
    assert stats.length_px == pytest.approx(np.sqrt(15 * 16 / 3))  # sqrt of the variance along the line
    assert stats.energy == pytest.approx(np.sqrt(31 * (1 / 31) ** 2))
    assert stats.r_rms == pytest.approx(np.sqrt(80.0))
    assert shake.severity(stats.r_rms, 31) == pytest.approx(np.sqrt(80.0) / 15 * 99 + 1)


def test_vertical_and_diagonal_kernel_directions():
    assert shake.kernel_stats(_line_kernel(15, [(r, 7) for r in range(3, 12)])).direction_deg == pytest.approx(90.0)
    rising = shake.kernel_stats(_line_kernel(15, [(14 - i, i) for i in range(15)]))  # up and to the right
    assert rising.direction_deg == pytest.approx(45.0)
    assert rising.length_px == pytest.approx(np.sqrt(2 * 7 * 8 / 3))
    falling = shake.kernel_stats(_line_kernel(15, [(i, i) for i in range(15)]))
    assert falling.direction_deg == pytest.approx(135.0)


def test_shake_convolves_rather_than_correlates():
    image = np.zeros((9, 9, 3), np.float32)
    image[4, 4] = 1.0
    kernel = np.zeros((3, 3), np.float32)
    kernel[1, 2] = 1.0  # a kernel that moves content one pixel right
    out = shake.apply(image, shake.ShakeParams(kernel))
    assert out[4, 5, 0] == 1.0 and out[4, 4, 0] == 0.0


def test_identity_kernel_leaves_the_image_unchanged(photo):
    kernel = _line_kernel(5, [(2, 2)])
    np.testing.assert_array_equal(shake.apply(photo, shake.ShakeParams(kernel)), photo)


# --- rain --------------------------------------------------------------------------
def test_rain_coverage_on_a_known_layer():
    alpha = np.zeros((10, 10), np.float32)
    alpha[:5, :5] = 0.5  # 25 pixels clearly visible
    alpha[9, :] = 0.1  # exactly at the threshold: not counted
    assert rain.coverage(alpha) == pytest.approx(0.25)
    assert rain.severity(rain.coverage(alpha)) == pytest.approx(25.75)


def _rain(**overrides) -> rain.RainParams:
    values = dict(density=0.003, slant_deg=0.0, length_px=21.0, width_px=1.0, opacity=0.8, color=(0.9, 0.9, 0.9), seed=7)
    values.update(overrides)
    return rain.RainParams(**values)


def test_rain_layer_is_deterministic_bounded_and_grows_with_density():
    thin, thick = rain.layer((128, 128), _rain(density=0.001)), rain.layer((128, 128), _rain(density=0.01))
    assert thin.min() >= 0 and thick.max() <= 1
    np.testing.assert_array_equal(thin, rain.layer((128, 128), _rain(density=0.001)))
    assert rain.coverage(rain.alpha(thick, _rain())) > rain.coverage(rain.alpha(thin, _rain()))


def test_vertical_streaks_are_taller_than_wide():
    streaks = rain.layer((96, 96), _rain(density=0.0005, slant_deg=0.0, length_px=31.0))
    rows, cols = np.nonzero(streaks > 0.5)
    assert rows.size > 0
    # one streak: its extent along y is its length, along x its width
    kernel = rain.streak_kernel(_rain(slant_deg=0.0, length_px=31.0))
    assert (kernel > 0.5).any(axis=1).sum() >= 25 and (kernel > 0.5).any(axis=0).sum() <= 2


def test_rain_blends_towards_its_colour_by_alpha():
    image = np.full((4, 4, 3), 0.2, np.float32)
    alpha = np.array([[0.0, 0.5, 1.0, 0.25]] * 4, np.float32)
    out = rain.apply(image, _rain(color=(1.0, 0.5, 0.0)), alpha)
    np.testing.assert_allclose(out[0, 0], [0.2, 0.2, 0.2])
    np.testing.assert_allclose(out[0, 1], [0.6, 0.35, 0.1], rtol=1e-6)
    np.testing.assert_allclose(out[0, 2], [1.0, 0.5, 0.0])


def test_rain_colour_follows_the_fog_light():
    params = rain.sample_params(np.random.default_rng(0), fog_light=(0.71, 0.82, 0.93))
    assert params.color == (0.71, 0.82, 0.93)


# --- noise -------------------------------------------------------------------------
def test_noise_statistics_match_sigma_on_a_flat_image():
    image = np.full((256, 256, 3), 0.5, np.float32)
    params = noise.NoiseParams(k=0.1, b=5.0, seed=3)
    expected = (0.1 * 127.5 + 5.0) / 255  # sigma(x)/255 at x = 127.5
    sigma = noise.sigma_map(image, params)
    assert float(sigma.mean()) == pytest.approx(expected, rel=1e-5)
    residual = noise.apply(image, params, sigma) - image
    assert residual.mean() == pytest.approx(0.0, abs=3e-4)
    assert residual.std() == pytest.approx(expected, rel=0.01)


def test_noise_sigma_is_floored_at_zero():
    image = np.full((8, 8, 3), 0.5, np.float32)
    params = noise.NoiseParams(k=0.1, b=-20.0, seed=0)  # 12.75 - 20 < 0
    assert noise.sigma_map(image, params).max() == 0.0
    np.testing.assert_array_equal(noise.apply(image, params), image)


def test_noise_sigma_grows_with_intensity_and_output_is_clipped():
    ramp = np.repeat(np.linspace(0, 1, 64, dtype=np.float32)[None, :, None], 3, axis=2)
    params = noise.NoiseParams(k=0.3, b=0.0, seed=1)
    sigma = noise.sigma_map(ramp, params)
    assert np.all(np.diff(sigma[0, :, 0]) >= 0)
    out = noise.apply(ramp, params, sigma)
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_config_ranges_are_checked_with_a_clear_message():
    with pytest.raises(ValueError, match=r"fog.beta: low 3.0 is above high 1.0"):
        fog.FogConfig(beta=(3.0, 1.0))
    with pytest.raises(ValueError, match="rain.opacity"):
        rain.RainConfig(opacity=(0.2, 1.5))


def test_trimming_a_kernel_does_not_change_the_blur(photo):
    rng = np.random.default_rng(5)
    for _ in range(10):
        kernel = shake.sample_params(rng).kernel
        trimmed = shake.trim(kernel)
        assert trimmed.shape[0] % 2 == 1 and trimmed.shape[1] % 2 == 1 and trimmed.sum() == pytest.approx(1, abs=1e-5)
        padded = np.pad(kernel, 3)  # a larger, zero-bordered kernel is the same blur
        reference = __import__("cv2").filter2D(photo, -1, padded[::-1, ::-1].copy(), borderType=4)
        np.testing.assert_allclose(shake.apply(photo, shake.ShakeParams(kernel)), reference, atol=2e-6)
