"""Qwen3-VL's image budget: qwen-vl-utils sizes every image, and SFT sees what inference sees."""

import dataclasses

import numpy as np
import pytest
import torch
from qwen_vl_utils import smart_resize

from reasoner import QwenReasoner
from reasoner.prompts import DIAGNOSIS_PROMPT
from reasoner.vision import VisionBudget
from rnr import BUNDLED_PHOTOS
from rnr.imageio import read_image


@pytest.fixture(scope="module")
def large_photo() -> np.ndarray:
    """A bundled photo blown up to 4000x3000, the size of a camera's JPEG."""
    import cv2

    return cv2.resize(read_image(BUNDLED_PHOTOS / "plasma-kite.jpg"), (4000, 3000), interpolation=cv2.INTER_LINEAR)


def test_a_large_photo_costs_the_tokens_smart_resize_says(tiny_qwen3_vl, large_photo):
    reasoner = QwenReasoner.from_pretrained(str(tiny_qwen3_vl), min_pixels=32 * 32, max_pixels=512 * 512)
    height, width = smart_resize(3000, 4000, factor=32, min_pixels=32 * 32, max_pixels=512 * 512)
    assert (height, width) == (416, 576)  # Qwen3-VL: 16-pixel patches, 2x2 merged, so multiples of 32
    inputs = reasoner.encode([large_photo], DIAGNOSIS_PROMPT)
    assert inputs["image_grid_thw"].tolist() == [[1, height // 16, width // 16]]
    image_token = reasoner.processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert int((inputs["input_ids"] == image_token).sum()) == height * width // 32**2 == reasoner.vision.tokens(4000, 3000) == 234


def test_the_processors_budget_is_the_default_and_a_bad_one_is_refused(tiny_qwen3_vl):
    reasoner = QwenReasoner.from_pretrained(str(tiny_qwen3_vl))
    assert reasoner.vision == VisionBudget(min_pixels=32 * 32, max_pixels=128 * 128, patch_size=16)  # tiny_models.py's
    assert reasoner.vision.size(100, 60) == (96, 64)
    with pytest.raises(ValueError, match="need 0 < min_pixels <= max_pixels, got 4096 and 1024"):
        VisionBudget(4096, 1024)


def _odd_sized_set(tiny_synth_set, folder):
    """Two rows of the tiny set with 200x150 photo crops: large enough that the budget resizes them."""
    from datasets import load_from_disk
    from PIL import Image

    photo = Image.open(BUNDLED_PHOTOS / "mate-aqua.jpg").convert("RGB").crop((0, 0, 200, 150))
    rows = load_from_disk(str(tiny_synth_set)).select_columns(["images", "prompt", "completion"]).select(range(2))
    rows.map(lambda row: {"images": [photo]}).save_to_disk(str(folder))
    return folder


def test_sft_collation_and_diagnosis_see_the_same_pixels(tiny_qwen3_vl, tiny_synth_set, tmp_path):
    from transformers import AutoProcessor

    from reasoner.train import ReasonerTrainConfig, build_trainer
    from rnr.config import load_config

    data = _odd_sized_set(tiny_synth_set, tmp_path / "set")
    config = dataclasses.replace(
        load_config(ReasonerTrainConfig, "configs/reasoner/tiny.yaml"),
        model=str(tiny_qwen3_vl), data=str(data), output=str(tmp_path / "run"), max_pixels=128 * 96, min_pixels=32 * 32,
    )
    trainer = build_trainer(config)
    example = trainer.train_dataset[0]
    batch = trainer.data_collator([example])
    assert batch["image_grid_thw"].tolist() == [[1, 6, 8]]  # 200x150 -> 128x96 (16-pixel patches)
    trainer.processing_class.save_pretrained(str(tmp_path / "run"))  # what rnr-train leaves for inference
    saved = AutoProcessor.from_pretrained(str(tmp_path / "run"))
    reasoner = QwenReasoner(model=trainer.model, processor=saved)
    assert reasoner.vision == VisionBudget(32 * 32, 128 * 96, 16)
    inputs = reasoner.encode(example["images"], DIAGNOSIS_PROMPT)
    assert torch.equal(inputs["image_grid_thw"], batch["image_grid_thw"])
    assert torch.equal(inputs["pixel_values"], batch["pixel_values"])
