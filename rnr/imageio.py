"""Image reading and writing: float32 RGB in [0, 1] inside, atomic files outside.

Reading handles what real photo folders contain: EXIF rotation, greyscale, alpha
(composited over white), palette images, and 8- or 16-bit depth. Every failure is an
`ImageReadError` whose message names the file and says why.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

# Decoding allocates 12 bytes a pixel as float32 RGB: 100 MP is 1.2 GB, beyond any camera
# photo (a 61 MP full-frame is 0.7 GB) yet well below what a decompression bomb asks for.
MAX_PIXELS = 100_000_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm")
_EXIF_ORIENTATION = 0x0112
# PNG level 1 with the RLE strategy: lossless, and ~25% faster than the default strategy.
PNG_FAST = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]


class ImageReadError(ValueError):
    """A file that cannot be read as an image; str() is one line naming the file and why."""


class ImageTooLargeError(ImageReadError):
    """An image with more pixels than the caller allows; `pixels` is its size (0 when PIL refused it unmeasured)."""

    def __init__(self, message: str, pixels: int) -> None:
        super().__init__(message)
        self.pixels = pixels


def read_image(path: str | os.PathLike, max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    """Read any supported image as float32 RGB, shape (H, W, 3), values in [0, 1].

    An image above `max_pixels` (None: no limit) is refused from its header, before decoding.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImageReadError(f"{path}: cannot read file ({error.strerror or error})") from None
    return decode_image(data, name=str(path), max_pixels=max_pixels)


def lift_pil_pixel_limit() -> int | None:
    """Switch off PIL's own decompression-bomb check in this process; returns the limit it had.

    For programs that pass `max_pixels` themselves: PIL warns above 89 MP and refuses above
    179 MP without naming the file, whatever limit the user asked for, while `decode_image`
    checks the header size against `max_pixels` with a message that does.
    """
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    return previous


@contextlib.contextmanager
def pil_pixel_limit_lifted() -> Iterator[None]:
    """`lift_pil_pixel_limit` for the duration of a with-block: the process's limit comes back after."""
    previous = lift_pil_pixel_limit()
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def decode_image(data: bytes, name: str = "<bytes>", max_pixels: int | None = MAX_PIXELS) -> np.ndarray:
    """Decode encoded image bytes; see `read_image`."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            _check_pixels(image.size, name, max_pixels)
            high_bit_depth = _is_high_bit_depth(image)  # first: getexif() and load() clear image.tile
            orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
            image.load()  # decodes fully: truncated files fail here, not later
            if high_bit_depth:
                array = _decode_16bit(data, name)
            else:
                array = _pil_to_float(image)
    except UnidentifiedImageError:
        raise ImageReadError(f"{name}: not an image (format not recognised)") from None
    except Image.DecompressionBombError:
        limit = Image.MAX_IMAGE_PIXELS or 0
        raise ImageTooLargeError(f"{name}: more than {limit * 2:,} pixels, PIL's decompression-bomb limit", 0) from None
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ImageReadError):
            raise
        raise ImageReadError(f"{name}: damaged or truncated image ({error})") from None
    return _apply_orientation(array, orientation)


def _check_pixels(size: tuple[int, int], name: str, max_pixels: int | None) -> None:
    width, height = size
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {width}x{height} is {width * height:,} pixels, above the limit of {max_pixels:,}", width * height
        )


def _is_high_bit_depth(image: Image.Image) -> bool:
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        return True
    # PIL opens 16-bit RGB(A) PNG/TIFF as 8-bit "RGB"; the tile's raw mode tells the truth.
    return any(";16" in str(getattr(tile, "args", "") or "") for tile in (image.tile or []))


def _decode_16bit(data: bytes, name: str) -> np.ndarray:
    raw = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise ImageReadError(f"{name}: cannot decode this high-bit-depth image; convert it to 8- or 16-bit PNG")
    scale = 65535.0 if raw.dtype == np.uint16 else (255.0 if raw.dtype == np.uint8 else 1.0)
    array = np.clip(raw.astype(np.float32) / np.float32(scale), 0.0, 1.0)
    if array.ndim == 2:
        return np.ascontiguousarray(np.repeat(array[:, :, None], 3, axis=2))
    if array.shape[2] == 4:
        rgb = array[:, :, 2::-1]
        return _over_white(rgb, array[:, :, 3:4])
    return np.ascontiguousarray(array[:, :, 2::-1])


def _pil_to_float(image: Image.Image) -> np.ndarray:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / np.float32(255)
        return _over_white(rgba[:, :, :3], rgba[:, :, 3:4])
    return np.asarray(image.convert("RGB"), dtype=np.float32) / np.float32(255)


def _over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    # Transparent pixels have no defined colour; white is what viewers show them as.
    return np.ascontiguousarray(rgb * alpha + (1.0 - alpha), dtype=np.float32)


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip so the array is upright, as EXIF orientation 1..8 asks."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a, -1)[::-1],
        8: lambda a: np.rot90(a, 1),
    }
    if orientation in ops:
        array = np.ascontiguousarray(ops[orientation](array))
    return array


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float [0, 1] to uint8 with rounding (the quantisation every stored image goes through); uint8 passes."""
    if image.dtype == np.uint8:
        return image
    return (np.clip(image, 0.0, 1.0) * np.float32(255) + np.float32(0.5)).astype(np.uint8)


def as_float_image(image: Any) -> np.ndarray:
    """A path, PIL image, uint8 or float array as float32 RGB (H, W, 3) in [0, 1]: what every backend takes."""
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    array = np.asarray(image.convert("RGB") if hasattr(image, "convert") else image)
    return array.astype(np.float32) / 255 if array.dtype == np.uint8 else array.astype(np.float32)


def to_pil(image: Any) -> Image.Image:
    """PIL RGB from a PIL image, a path, or an (H, W, 3) array (uint8, or float in [0, 1]): what the Qwen models take."""
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, (str, os.PathLike)):
        image = read_image(image)
    return Image.fromarray(to_uint8(np.asarray(image))).convert("RGB")


def to_float(image_uint8: np.ndarray) -> np.ndarray:
    return image_uint8.astype(np.float32) * np.float32(1 / 255)


def encode_png(image: np.ndarray) -> bytes:
    """Lossless PNG bytes of an RGB image (uint8, or float in [0, 1])."""
    if image.dtype != np.uint8:
        image = to_uint8(image)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, buffer = cv2.imencode(".png", bgr, PNG_FAST)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buffer.tobytes()


def write_image(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write an image as PNG (or whatever the suffix says), atomically."""
    path = Path(path)
    if path.suffix.lower() == ".png":
        data = encode_png(image)
    else:
        if image.dtype != np.uint8:
            image = to_uint8(image)
        ok, buffer = cv2.imencode(path.suffix, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if not ok:
            raise ValueError(f"{path}: cannot encode an image as {path.suffix!r}; use .png or .jpg")
        data = buffer.tobytes()
    atomic_write_bytes(path, data)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; the result should read like any new file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it; done once, at import, before any worker threads
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def save_safetensors(tensors: dict, path: str | os.PathLike, metadata: dict[str, str] | None = None) -> None:
    """safetensors' save_file writes in place (a crash leaves half a file) and with mode 0600."""
    from safetensors.torch import save

    atomic_write_bytes(path, save({name: tensor.contiguous() for name, tensor in tensors.items()}, metadata))
