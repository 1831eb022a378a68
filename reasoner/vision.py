"""Qwen3-VL's image input: every photo resized by qwen-vl-utils within a pixel budget.

Qwen3-VL cuts an image into 16×16 patches and merges 2×2 of them into one token, so an
H×W image (both sides multiples of 32, the "patch factor") costs H·W/32² image tokens,
plus the vision start and end markers. `qwen_vl_utils.smart_resize` picks the size:
the input's aspect, sides multiples of the factor, area within [min_pixels, max_pixels].
Diagnosis, captions, GRPO's judge and SFT collation all call `VisionBudget.prepare`, and
the processor is told not to resize again, so training and inference see the same pixels.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from rnr.imageio import to_pil

QWEN_VL_MERGE_SIZE = 2  # qwen-vl-utils assumes 2×2 patches a token (its SPATIAL_MERGE_SIZE)


@dataclass(frozen=True)
class VisionBudget:
    """The pixel range an image is resized into, and the model's patch size (16 for Qwen3-VL, 14 for Qwen2.5-VL)."""

    min_pixels: int
    max_pixels: int
    patch_size: int = 16

    def __post_init__(self) -> None:
        if not 0 < self.min_pixels <= self.max_pixels:
            raise ValueError(f"need 0 < min_pixels <= max_pixels, got {self.min_pixels} and {self.max_pixels}")

    @classmethod
    def from_processor(cls, processor, min_pixels: int | None = None, max_pixels: int | None = None) -> "VisionBudget":
        """The processor's own budget (a training output saves the one it was trained with), overridden where given;
        a `max_pixels` below the processor's minimum lowers the minimum with it."""
        images = processor.image_processor
        if images.merge_size != QWEN_VL_MERGE_SIZE:
            raise ValueError(f"the image processor merges {images.merge_size}² patches; qwen-vl-utils handles 2² only")
        max_pixels = images.size["longest_edge"] if max_pixels is None else max_pixels
        min_pixels = min(images.size["shortest_edge"], max_pixels) if min_pixels is None else min_pixels
        return cls(min_pixels=min_pixels, max_pixels=max_pixels, patch_size=images.patch_size)

    @property
    def factor(self) -> int:
        """Pixels per token side: both sides of a prepared image are multiples of it."""
        return self.patch_size * QWEN_VL_MERGE_SIZE

    def size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) an image of this size is resized to.

        >>> VisionBudget(256 * 32 * 32 // 4, 512 * 512).size(4000, 3000)
        (576, 416)
        """
        from qwen_vl_utils import smart_resize

        new_height, new_width = smart_resize(height, width, self.factor, self.min_pixels, self.max_pixels)
        return new_width, new_height

    def tokens(self, width: int, height: int) -> int:
        """Image tokens an image of this size costs (without the two vision markers).

        >>> VisionBudget(65536, 512 * 512).tokens(4000, 3000)
        234
        """
        new_width, new_height = self.size(width, height)
        return (new_width // self.factor) * (new_height // self.factor)

    def prepare(self, images: Sequence[Any]) -> list[Any]:
        """PIL images resized by `qwen_vl_utils.process_vision_info` within this budget."""
        from qwen_vl_utils import process_vision_info

        content = [
            {"type": "image", "image": to_pil(image), "min_pixels": self.min_pixels, "max_pixels": self.max_pixels}
            for image in images
        ]
        if not content:
            return []
        prepared, _ = process_vision_info([{"role": "user", "content": content}], image_patch_size=self.patch_size)
        return prepared

    def apply_to(self, processor) -> None:
        """Write the budget into the processor, so that a saved processor carries it to inference."""
        processor.image_processor.size = {"shortest_edge": self.min_pixels, "longest_edge": self.max_pixels}


@contextlib.contextmanager
def resizing_off(processor) -> Iterator[None]:
    """The processor leaves prepared images as they are (they are already multiples of the patch factor)."""
    images = processor.image_processor
    before = images.do_resize
    images.do_resize = False
    try:
        yield
    finally:
        images.do_resize = before


@dataclass
class PreparedImagesCollator:
    """SFT collation as at inference: each example's images prepared by the budget, then trl's collator."""

    budget: VisionBudget
    collator: Any  # trl's DataCollatorForVisionLanguageModeling
    processor: Any

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        examples = [{**example, "images": self.budget.prepare(example["images"])} for example in examples]
        with resizing_off(self.processor):
            return self.collator(examples)
