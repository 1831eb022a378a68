"""The Qwen3-VL reasoner (paper section 3.1): a photo in, a structured `Diagnosis` out.

`QwenReasoner.from_pretrained` takes a hub id or a local folder holding a base model,
a LoRA adapter (its base named in the adapter config or given as `model`), a merged
checkpoint, or an `rnr-train --stage reasoner` output. Generation is batched with left
padding and greedy by default, so the same photo gets the same diagnosis.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence


from reasoner.prompts import DIAGNOSIS_PROMPT, SCENE_PROMPT
from reasoner.vision import VisionBudget, resizing_off
from rnr.devices import resolve_device, torch_dtype
from rnr.diagnosis import DEGRADATIONS, Diagnosis, ParseResult, clip_words

logger = logging.getLogger(__name__)
QWEN3_VL_TYPES = ("qwen3_vl", "qwen3_vl_moe")
ADAPTER_CONFIG = "adapter_config.json"


class ReasonerLoadError(ValueError):
    """A model that cannot be loaded as a Qwen3-VL reasoner; the message says what to give instead."""


def _resolve(model: str, adapter: str | None) -> tuple[str, str | None]:
    """(base model, adapter) from what the user named; a folder holding an adapter names its base."""
    path = Path(model)
    if adapter is None and (path / ADAPTER_CONFIG).is_file():
        base = json.loads((path / ADAPTER_CONFIG).read_text()).get("base_model_name_or_path")
        if not base:
            raise ReasonerLoadError(f"{model}: a LoRA adapter without a base model; pass the base as model= and this as adapter=")
        return base, str(path)
    return model, adapter


def check_is_qwen3_vl(model: str) -> None:
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(model)
    except (OSError, ValueError) as error:
        raise ReasonerLoadError(
            f"{model}: not found as a local folder or in the hub cache ({str(error).splitlines()[0]}); "
            "give a Qwen3-VL folder or download the model first"
        ) from None
    if config.model_type not in QWEN3_VL_TYPES:
        raise ReasonerLoadError(f"{model}: is a {config.model_type!r} model, not Qwen3-VL; give a Qwen3-VL model")


@dataclass
class QwenReasoner:
    """Diagnose photos with a (fine-tuned) Qwen3-VL model."""

    model: Any
    processor: Any
    max_new_tokens: int = 512
    name: str = "qwen3-vl"
    vision: VisionBudget | None = None  # None: the processor's own budget

    def __post_init__(self) -> None:
        if self.vision is None:
            self.vision = VisionBudget.from_processor(self.processor)

    @classmethod
    def from_pretrained(
        cls,
        model: str,
        adapter: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
        max_new_tokens: int = 512,
        min_pixels: int | None = None,
        max_pixels: int | None = None,
    ) -> "QwenReasoner":
        """`min_pixels`/`max_pixels`: the image budget (default: the processor's, i.e. the one trained with)."""
        from transformers import AutoProcessor, Qwen3VLForConditionalGeneration

        base, adapter = _resolve(str(model), adapter)
        check_is_qwen3_vl(base)
        device = resolve_device(device)
        try:
            weights_dtype = torch_dtype(dtype, device)
        except ValueError as error:
            raise ReasonerLoadError(str(error)) from None
        network = Qwen3VLForConditionalGeneration.from_pretrained(base, dtype=weights_dtype)
        if adapter is not None:
            from peft import PeftModel

            network = PeftModel.from_pretrained(network, adapter)
        # A training output carries its own processor (e.g. a pixel budget); else the base's.
        processor_source = adapter if adapter and _has_processor(Path(adapter)) else base
        processor = AutoProcessor.from_pretrained(processor_source)
        network = network.to(device).eval()
        vision = VisionBudget.from_processor(processor, min_pixels, max_pixels)
        return cls(model=network, processor=processor, max_new_tokens=max_new_tokens, name=str(adapter or base), vision=vision)

    # -- inference ------------------------------------------------------------------
    def encode(self, images: Sequence[Any], prompt: str):
        """The model's inputs for one prompt per image: images resized by qwen-vl-utils, left padding."""
        conversations = [
            [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": prompt}]}]
            for image in self.vision.prepare(images)
        ]
        with resizing_off(self.processor):
            return self.processor.apply_chat_template(
                conversations,
                add_generation_prompt=True,
                tokenize=True,
                return_dict=True,
                return_tensors="pt",
                processor_kwargs={"padding": True, "padding_side": "left"},
            )

    def generate(self, images: Sequence[Any], prompt: str, batch_size: int = 8, max_new_tokens: int | None = None) -> list[str]:
        """The model's raw answers, one per image, greedy, in batches with left padding."""
        import torch

        answers: list[str] = []
        for start in range(0, len(images), batch_size):
            inputs = self.encode(images[start : start + batch_size], prompt).to(self.model.device)
            with torch.no_grad():
                output = self.model.generate(**inputs, max_new_tokens=max_new_tokens or self.max_new_tokens, do_sample=False)
            new_tokens = output[:, inputs["input_ids"].shape[1] :]
            answers.extend(self.processor.batch_decode(new_tokens, skip_special_tokens=True))
        return answers

    def diagnose(self, images: Sequence[Any], batch_size: int = 8, names: Iterable[str] | None = None) -> list[Diagnosis]:
        """One `Diagnosis` per image; unreadable answers give what could be read, with a warning."""
        return [result.diagnosis for result in self.diagnose_detailed(images, batch_size, names)]

    def diagnose_hedged(self, images: Sequence[Any], batch_size: int = 8, names: Iterable[str] | None = None) -> list[tuple[Diagnosis, None]]:
        """`diagnose` with no `rnr.hedge.Hedge`: a generated answer carries no calibrated presence probability."""
        return [(diagnosis, None) for diagnosis in self.diagnose(images, batch_size, names)]

    def diagnose_detailed(
        self, images: Sequence[Any], batch_size: int = 8, names: Iterable[str] | None = None
    ) -> list[ParseResult]:
        """What `diagnose` returns, with the parser's problems per answer (for accuracy reports)."""
        names = list(names) if names is not None else [f"image {i}" for i in range(len(images))]
        results = []
        for name, answer in zip(names, self.generate(images, DIAGNOSIS_PROMPT, batch_size)):
            result = Diagnosis.parse(answer)
            if result.problems:
                logger.warning("%s: the reasoner's answer was not a complete diagnosis: %s", name, "; ".join(result.problems))
            results.append(result)
        return results

    def severities(self, images: Sequence[Any], batch_size: int = 8):
        """A float32 tensor [N, 4] of severities in `DEGRADATIONS` order (the GRPO reward's input)."""
        import torch

        rows = [d.severities() for d in self.diagnose(images, batch_size)]
        return torch.tensor(rows, dtype=torch.float32).reshape(len(rows), len(DEGRADATIONS))

    def describe_scene(self, images: Sequence[Any], batch_size: int = 8) -> list[str]:
        """The A.1 semantic description of each image (≤ 30 words): the captioner."""
        return [clip_words(text) for text in self.generate(images, SCENE_PROMPT, batch_size, max_new_tokens=64)]


def _has_processor(folder: Path) -> bool:
    return any((folder / name).is_file() for name in ("processor_config.json", "preprocessor_config.json"))
