"""Training stage 1: LoRA SFT of Qwen3-VL on rnr-synth data (trl `SFTTrainer` + peft).

The dataset's `images`, `prompt` and `completion` columns are trl's conversational
prompt–completion format, so the loss covers the answer (the canonical diagnosis text)
only. The output folder holds the LoRA adapter, the processor and the resolved config,
and loads with `QwenReasoner.from_pretrained(output)`. Checkpoints resume: run the same
command again. Many GPUs: ``accelerate launch -m rnr.cli.train --stage reasoner ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from rnr.config import ConfigError, to_dict

TRAIN_COLUMNS = ("images", "prompt", "completion")
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")  # the text tower


@dataclass(frozen=True)
class ReasonerTrainConfig:
    """Stage 1 settings; presets in configs/reasoner/."""

    model: str = ""  # hub id or folder of a Qwen3-VL model
    data: str = ""  # an rnr-synth dataset (hf format)
    output: str = "runs/reasoner"
    max_steps: int = -1  # -1: run `epochs` epochs
    epochs: float = 1.0
    learning_rate: float = 1e-4
    lr_scheduler: str = "cosine"
    warmup_steps: float = 0.03  # below 1: a share of all steps (as in transformers)
    weight_decay: float = 0.0
    batch_size: int = 1
    gradient_accumulation: int = 8
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: tuple[str, ...] = LORA_TARGETS
    min_pixels: int | None = None  # the pixel budget per image (qwen-vl-utils); None: the model's processor's
    max_pixels: int | None = None  # e.g. 262144 (512²): 256 image tokens with Qwen3-VL (docs/REASONER.md)
    bf16: bool = False
    gradient_checkpointing: bool = False
    logging_steps: int = 10
    save_steps: int = 500
    save_total_limit: int = 2
    limit: int | None = None  # train on the first N samples only
    seed: int = 0

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.gradient_accumulation < 1:
            raise ValueError("batch_size and gradient_accumulation must be at least 1")
        if self.lora_r < 1:
            raise ValueError(f"lora_r must be at least 1, got {self.lora_r}")
        if any(pixels is not None and pixels < 1 for pixels in (self.min_pixels, self.max_pixels)):
            raise ValueError("min_pixels and max_pixels must be positive (or left out: the model's own budget)")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError(f"max_steps must be -1 (use epochs) or positive, got {self.max_steps}")

    def check_ready(self) -> None:
        if not self.model:
            raise ConfigError("no model to train: pass --model ID|PATH or set model: in the config")
        if not self.data:
            raise ConfigError("no data: pass --data DIR (an rnr-synth output) or set data: in the config")


def load_dataset(config: ReasonerTrainConfig):
    from datasets import load_from_disk

    try:
        dataset = load_from_disk(config.data)
    except (FileNotFoundError, ValueError) as error:
        raise ConfigError(f"--data {config.data}: not a datasets folder ({error}); make one with rnr-synth") from None
    missing = [c for c in TRAIN_COLUMNS if c not in dataset.column_names]
    if missing:
        raise ConfigError(f"--data {config.data}: lacks columns {missing}; make it with rnr-synth --format hf")
    dataset = dataset.select_columns(list(TRAIN_COLUMNS))
    if config.limit is not None:
        dataset = dataset.select(range(min(config.limit, len(dataset))))
    return dataset


def build_trainer(config: ReasonerTrainConfig):
    """The trl SFTTrainer with a fresh LoRA on the text tower, ready to `train()`."""
    import torch
    from peft import LoraConfig
    from transformers import AutoProcessor, Qwen3VLForConditionalGeneration
    from trl import SFTConfig, SFTTrainer

    from reasoner.qwen import check_is_qwen3_vl
    from reasoner.vision import PreparedImagesCollator, VisionBudget

    config.check_ready()
    check_is_qwen3_vl(config.model)
    processor = AutoProcessor.from_pretrained(config.model)
    budget = VisionBudget.from_processor(processor, config.min_pixels, config.max_pixels)
    budget.apply_to(processor)  # saved with the adapter: inference resizes the same way
    cuda = torch.cuda.is_available()
    model = Qwen3VLForConditionalGeneration.from_pretrained(
        config.model, dtype=torch.bfloat16 if config.bf16 else torch.float32
    )
    args = SFTConfig(
        output_dir=config.output,
        max_steps=config.max_steps,
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_steps,
        weight_decay=config.weight_decay,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation,
        bf16=config.bf16,
        gradient_checkpointing=config.gradient_checkpointing,
        logging_steps=config.logging_steps,
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        seed=config.seed,
        use_cpu=not cuda,
        max_length=None,  # the default 1024 can cut image tokens out of a sequence
        report_to="none",
    )
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_targets),
        task_type="CAUSAL_LM",
    )
    trainer = SFTTrainer(model=model, args=args, train_dataset=load_dataset(config), processing_class=processor, peft_config=lora)
    trainer.data_collator = PreparedImagesCollator(budget, trainer.data_collator, processor)
    return trainer


def train(config: ReasonerTrainConfig) -> Path:
    """Train (or resume), then save adapter, processor and resolved config into `config.output`."""
    from transformers.trainer_utils import get_last_checkpoint

    from reasoner.qwen import check_is_qwen3_vl

    config.check_ready()  # refuse before writing anything
    check_is_qwen3_vl(config.model)
    output = Path(config.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "rnr-train.yaml").write_text(yaml.safe_dump({"stage": "reasoner", **to_dict(config)}, sort_keys=False))
    trainer = build_trainer(config)
    checkpoint = get_last_checkpoint(str(output)) if any(output.glob("checkpoint-*")) else None
    trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(str(output))
    trainer.processing_class.save_pretrained(str(output))
    return output

