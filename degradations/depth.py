"""Relative depth for fog: supplied maps, a transformers depth model, or a built-in heuristic.

Every source yields ``d`` in [0, 1], 0 near and 1 far, at the image's size, and names
itself (the name is logged in each sample's record):

- ``file:<name>`` — a map supplied with the image (png 8/16-bit, tif, npy), either
  depth (near is small; RESIDE/OTS ship these) or disparity (near is large).
- ``model:<id>`` — a monocular depth model through transformers'
  ``AutoModelForDepthEstimation``. Depth Anything and DPT predict relative inverse
  depth (disparity); ZoeDepth and Depth Pro predict metric depth; `kind="auto"` knows which.
- ``heuristic`` — no model, no file: outdoor photos are mostly a ground plane seen from
  eye level, so what is higher in the frame tends to be farther, and bright,
  unsaturated regions (sky, distant haze) are the farthest of all. ``d`` blends a
  top-to-bottom ramp (weight 0.6) with a smoothed "sky-likeness", brightness × (1 −
  saturation) (weight 0.4), computed at 64×64 and resized up. It is crude by design:
  cheap, deterministic, and plausible enough for fog that thickens with distance.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

DEPTH_SUFFIXES = (".npy", ".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")
METRIC_DEPTH_MODELS = ("zoedepth", "depth_pro")
HEURISTIC = "heuristic"


def normalize(raw: np.ndarray, kind: str = "depth") -> np.ndarray:
    """Min-max normalise to [0, 1]; disparity is inverted so that 1 is always far."""
    if kind not in ("depth", "disparity"):
        raise ValueError(f"depth kind must be 'depth' or 'disparity', got {kind!r}")
    raw = np.asarray(raw, np.float32)
    if raw.ndim == 3:
        raw = raw[..., 0]
    finite = np.isfinite(raw)
    if not finite.all():  # holes in stereo/LiDAR maps: treat as the farthest seen value
        fill = raw[finite].max() if kind == "depth" and finite.any() else (raw[finite].min() if finite.any() else 0)
        raw = np.where(finite, raw, fill)
    low, high = float(raw.min()), float(raw.max())
    depth = (raw - low) / (high - low) if high > low else np.zeros_like(raw)
    return (1.0 - depth if kind == "disparity" else depth).astype(np.float32)


def heuristic_depth(image: np.ndarray) -> np.ndarray:
    """The built-in prior (see the module docstring) for an (H, W, 3) float image."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA)
    brightness = small.max(axis=2)
    saturation = (brightness - small.min(axis=2)) / (brightness + 1e-6)
    sky = cv2.GaussianBlur(brightness * (1.0 - saturation), (0, 0), 3.0)
    ramp = np.linspace(1.0, 0.0, 64, dtype=np.float32)[:, None]
    depth = normalize(0.6 * ramp + 0.4 * sky)
    return cv2.resize(depth, (width, height), interpolation=cv2.INTER_LINEAR)


def read_depth_file(path: str | Path) -> np.ndarray:
    """The raw values of a depth/disparity file as float32 (H, W)."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        raw = np.load(path, allow_pickle=False)
    else:
        raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH)
        if raw is None:
            raise ValueError(f"{path}: cannot read as a depth map; use .npy, 8/16-bit .png or .tif")
    raw = np.asarray(raw, np.float32)
    if raw.ndim == 3:
        raw = raw[..., 0]
    if raw.ndim != 2:
        raise ValueError(f"{path}: a depth map must be 2-D, got shape {raw.shape}")
    return raw


def find_depth_file(folder: str | Path, stem: str) -> Path | None:
    for suffix in DEPTH_SUFFIXES:
        candidate = Path(folder) / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def fit_to(depth: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a depth map to (H, W) if needed."""
    if depth.shape[:2] == tuple(shape):
        return depth
    return cv2.resize(depth, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


class ModelDepth:
    """A transformers depth-estimation model as a depth source; loads on first use.

    Runs on the CPU unless `device` says otherwise; the model and its image processor
    come from a hub id or a local folder (``save_pretrained`` output).
    """

    def __init__(self, model: str, kind: str = "auto", device: str = "cpu") -> None:
        self.model_id = model
        self.kind = kind
        self.device = device
        self._model = None
        self._processor = None

    @property
    def source(self) -> str:
        return f"model:{self.model_id}"

    def load(self) -> "ModelDepth":
        if self._model is None:
            from transformers import AutoImageProcessor, AutoModelForDepthEstimation

            try:
                self._processor = AutoImageProcessor.from_pretrained(self.model_id)
                self._model = AutoModelForDepthEstimation.from_pretrained(self.model_id).to(self.device).eval()
            except (OSError, ValueError) as error:
                raise ValueError(
                    f"--depth-model {self.model_id}: cannot load a transformers depth-estimation model "
                    f"({str(error).splitlines()[0]}); give a local folder or a cached hub id"
                ) from None
            if self.kind == "auto":
                metric = self._model.config.model_type in METRIC_DEPTH_MODELS
                self.kind = "depth" if metric else "disparity"
        return self

    def __call__(self, image: np.ndarray) -> np.ndarray:
        import torch

        self.load()
        pixels = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
        inputs = self._processor(images=pixels, return_tensors="pt").to(self.device)
        with torch.no_grad():
            outputs = self._model(**inputs)
        post = self._processor.post_process_depth_estimation(outputs, target_sizes=[image.shape[:2]])
        raw = post[0]["predicted_depth"].float().cpu().numpy()
        return normalize(raw, self.kind)
