"""Reading what real photo folders hold, and writing without half-written files."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from rnr.imageio import _UMASK, ImageReadError, atomic_write_bytes, encode_png, read_image, write_image


def _gradient(height=6, width=10) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 25, y * 40, (x + y) * 10], axis=2).astype(np.uint8)


def test_rgb_png_reads_as_float_rgb(tmp_path):
    pixels = _gradient()
    Image.fromarray(pixels).save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png")
    assert image.dtype == np.float32 and image.shape == (6, 10, 3)
    np.testing.assert_allclose(image, pixels / 255, atol=1e-7)


def test_greyscale_becomes_three_equal_channels(tmp_path):
    Image.fromarray(_gradient()[..., 0]).save(tmp_path / "g.png")
    image = read_image(tmp_path / "g.png")
    assert image.shape == (6, 10, 3)
    np.testing.assert_array_equal(image[..., 0], image[..., 2])


def test_alpha_is_composited_over_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (200, 100, 50, 255)  # opaque keeps its colour
    rgba[0, 1] = (200, 100, 50, 0)  # transparent becomes white
    rgba[1, 0] = (0, 0, 0, 128)  # half-transparent black becomes mid grey
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png")
    np.testing.assert_allclose(image[0, 0], np.array([200, 100, 50]) / 255, atol=1e-6)
    np.testing.assert_allclose(image[0, 1], [1, 1, 1])
    np.testing.assert_allclose(image[1, 0], [127 / 255] * 3, atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_16_bit_precision_is_kept(tmp_path, channels):
    values = np.array([[0, 1000, 65535], [300, 40000, 12345]], np.uint16)  # 1000/65535 is not an 8-bit level
    raw = values if channels == 1 else np.stack([values] * channels, axis=2)
    if channels == 4:
        raw[..., 3] = 65535
    cv2.imwrite(str(tmp_path / "deep.png"), raw)
    image = read_image(tmp_path / "deep.png")
    assert image.shape == (2, 3, 3)
    np.testing.assert_allclose(image[..., 1], values / 65535, atol=1e-7)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_is_applied(tmp_path, orientation, fmt):
    pixels = _gradient(4, 6)
    source = Image.fromarray(pixels)
    exif = source.getexif()
    exif[0x0112] = orientation
    path = tmp_path / f"o.{fmt.lower()}"
    source.save(path, format=fmt, exif=exif, **({"quality": 100, "subsampling": 0} if fmt == "JPEG" else {}))
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"), np.float32) / 255
    image = read_image(path)
    assert image.shape == expected.shape
    np.testing.assert_allclose(image, expected, atol=1e-6)
    if orientation in (5, 6, 7, 8):
        assert image.shape[:2] == (6, 4)


def test_palette_image_with_transparency_is_composited_over_white(tmp_path):
    indices = np.zeros((6, 10), np.uint8)
    indices[:, 5:] = 1  # left half: index 0, transparent black; right half: opaque red
    image = Image.fromarray(indices, mode="P")
    image.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)
    image.save(tmp_path / "p.png", transparency=0)
    pixels = read_image(tmp_path / "p.png")
    assert pixels.shape == (6, 10, 3)
    np.testing.assert_array_equal(pixels[:, :5], 1.0)  # transparent shows as white, not as its black colour
    np.testing.assert_array_equal(pixels[:, 5:], np.broadcast_to([1.0, 0.0, 0.0], (6, 5, 3)))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_images_are_refused_by_name(tmp_path, fmt):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buffer, format=fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageReadError, match=rf"cut\.{fmt.lower()}: damaged or truncated"):
        read_image(path)


def test_non_images_and_missing_files_are_refused_by_name(tmp_path):
    (tmp_path / "notes.jpg").write_text("not a picture")
    with pytest.raises(ImageReadError, match=r"notes\.jpg: not an image"):
        read_image(tmp_path / "notes.jpg")
    with pytest.raises(ImageReadError, match=r"gone\.png: cannot read file"):
        read_image(tmp_path / "gone.png")


def test_png_round_trip_is_lossless_for_quantised_images(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 256, (17, 23, 3), dtype=np.uint8)
    write_image(tmp_path / "x.png", pixels)
    np.testing.assert_array_equal(np.round(read_image(tmp_path / "x.png") * 255).astype(np.uint8), pixels)
    assert encode_png(pixels) == encode_png(pixels.astype(np.float32) / 255)


def test_atomic_write_replaces_whole_and_leaves_no_temporaries(tmp_path):
    target = tmp_path / "deep" / "file.bin"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")
    assert target.stat().st_mode & 0o777 == 0o666 & ~_UMASK  # not mkstemp's 0600
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]

    class Boom(Exception):
        pass

    class Exploding(bytes):
        pass

    import rnr.imageio as imageio

    real_fdopen = imageio.os.fdopen

    def failing_fdopen(fd, mode):
        handle = real_fdopen(fd, mode)
        handle.write = lambda data: (_ for _ in ()).throw(Boom())
        return handle

    imageio.os.fdopen = failing_fdopen
    try:
        with pytest.raises(Boom):
            atomic_write_bytes(target, b"third")
    finally:
        imageio.os.fdopen = real_fdopen
    assert target.read_bytes() == b"second"  # the old file survives a failed write
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]


def test_safetensors_are_saved_whole_with_the_usual_mode(tmp_path):
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    from rnr.imageio import save_safetensors

    target = tmp_path / "w.safetensors"
    weights = {"a": torch.arange(6.0).reshape(2, 3).t(), "b": torch.ones(2, dtype=torch.int64)}  # "a" is not contiguous
    save_safetensors(weights, target, {"note": "x"})
    assert target.stat().st_mode & 0o777 == 0o666 & ~_UMASK  # safetensors' own save_file leaves 0600
    loaded = load_file(str(target))
    assert torch.equal(loaded["a"], weights["a"]) and torch.equal(loaded["b"], weights["b"])
    assert safe_open(str(target), "pt").metadata() == {"note": "x"}
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]
