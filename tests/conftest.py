"""Shared fixtures. Everything runs offline on a CPU: the hub is switched off before any import."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hypothesis import settings  # noqa: E402

from rnr import BUNDLED_PHOTOS  # noqa: E402
from rnr.imageio import read_image  # noqa: E402


# CI replays a fixed set of examples so a rare counterexample cannot turn a submission red at
# random; local runs keep exploring new ones (and print any failure to fix).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real 128x128 crop of a bundled photo, float32 RGB quantised to 8 bits."""
    image = read_image(BUNDLED_PHOTOS / "plasma-kite.jpg")[200:328, 300:428]
    return np.round(image * 255).astype(np.float32) / 255


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    """Three small real photos (PNG) in a folder."""
    import cv2

    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("mate-aqua", "plasma-kite", "mate-storm"):
        image = cv2.imread(str(BUNDLED_PHOTOS / f"{name}.jpg"))
        cv2.imwrite(str(folder / f"{name}.png"), cv2.resize(image, (160, 96), interpolation=cv2.INTER_AREA))
    return folder


@pytest.fixture(scope="session")
def tiny_qwen3_vl(tmp_path_factory) -> Path:
    """A randomly initialised Qwen3-VL (real classes, ~160k parameters) with its processor."""
    from tiny_models import save_tiny_qwen3_vl

    return save_tiny_qwen3_vl(tmp_path_factory.mktemp("tiny-qwen3-vl"))


@pytest.fixture(scope="session")
def tiny_synth_set(tmp_path_factory) -> Path:
    """A 6-sample rnr-synth dataset at 64x64 from the bundled photos."""
    from rnr.cli.synth import main

    out = tmp_path_factory.mktemp("synth") / "set"
    assert main(["--quiet", "--workers", "1", "--input", "bundled", "--num", "6", "--size", "64", "--output", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def tiny_qwen_edit_dir(tmp_path_factory) -> Path:
    """A QwenImageEditPipeline of tiny random components, saved with save_pretrained."""
    from tiny_models import save_tiny_qwen_image_edit

    return save_tiny_qwen_image_edit(tmp_path_factory.mktemp("tiny-qwen-image-edit"))


@pytest.fixture
def no_local_weights(tmp_path, monkeypatch):
    """An empty pyiqa weights cache, whatever this machine has downloaded before (test_eval*.py)."""
    import pyiqa.utils.download_util as download_util

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(download_util, "DEFAULT_CACHE_DIR", str(tmp_path / "torch" / "hub" / "pyiqa"))


@pytest.fixture(scope="session")
def sft_restorer(tiny_qwen_edit_dir, tiny_synth_set, tmp_path_factory) -> Path:
    """A 2-step LoRA SFT of the tiny Qwen-Image-Edit restorer (rnr-train), the policy GRPO tests start from."""
    from rnr.cli.train import main as train_main

    out = tmp_path_factory.mktemp("sft") / "restorer"
    args = ["--stage", "restorer", "--config", "configs/restorer/tiny.yaml", "--data", str(tiny_synth_set)]
    assert train_main([*args, "--model", str(tiny_qwen_edit_dir), "--output", str(out)]) == 0
    return out
