"""Tiny, randomly initialised models of the real classes, built offline (see shared/TINY-MODELS.md).

A tiny model's output is garbage text: tests use these for shapes, round trips and
plumbing, never for content.
"""

from __future__ import annotations

import json
from pathlib import Path

QWEN_SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
]


def qwen_tokenizer(vocab_size: int = 512):
    """A byte-level BPE trained on our own prompts, wrapped as the real Qwen2 tokenizer class."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    from reasoner.prompts import DIAGNOSIS_PROMPT
    from rnr import Diagnosis, Finding

    example = Diagnosis(
        fog=Finding(True, 55.9, {"atmospheric_light": [0.9, 0.8, 0.95], "beta": 1.7, "t_mean": 0.4}),
        noise=Finding(True, 12.3, {"k": 0.12, "b": -3.4, "sigma_mean": 0.021}),
        scene="A red kite above a sandy beach",
    )
    corpus = [DIAGNOSIS_PROMPT, example.render(), "user assistant system You are a helpful assistant."] * 20
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(corpus, trainer)
    model = json.loads(bpe.to_str())["model"]
    tokenizer = Qwen2Tokenizer(
        vocab=model["vocab"],
        merges=[tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]],
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        extra_special_tokens={
            "image_token": "<|image_pad|>",
            "video_token": "<|video_pad|>",
            "vision_start_token": "<|vision_start|>",
            "vision_end_token": "<|vision_end|>",
        },
    )
    tokenizer.add_tokens(QWEN_SPECIAL_TOKENS, special_tokens=True)
    return tokenizer


def chat_template(name: str) -> str:
    import trl

    return (Path(trl.__file__).parent / "chat_templates" / f"{name}.jinja").read_text()


def save_tiny_qwen3_vl(folder: Path, seed: int = 0) -> Path:
    """A ~300k-parameter Qwen3VLForConditionalGeneration with its processor, saved like a hub folder."""
    import torch
    from transformers import (
        Qwen2VLImageProcessor,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    tokenizer = qwen_tokenizer()
    patch = {"patch_size": 16, "merge_size": 2, "temporal_patch_size": 2}
    pixels = {"shortest_edge": 32 * 32, "longest_edge": 128 * 128}
    processor = Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=pixels, **patch),
        video_processor=Qwen3VLVideoProcessor(size=pixels, **patch),
        tokenizer=tokenizer,
        chat_template=chat_template("qwen3_vl"),
    )
    ids = tokenizer.convert_tokens_to_ids
    config = Qwen3VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "head_dim": 16,
            "max_position_embeddings": 4096,
            "rope_parameters": {"rope_type": "default", "rope_theta": 5e6, "mrope_section": [2, 1, 1], "mrope_interleaved": True},
            "pad_token_id": ids("<|endoftext|>"),
        },
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "out_hidden_size": 32,
            "num_position_embeddings": 64,
            "deepstack_visual_indexes": [1],
        },
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )
    torch.manual_seed(seed)
    model = Qwen3VLForConditionalGeneration(config).eval()
    model.generation_config.pad_token_id = ids("<|endoftext|>")
    model.generation_config.eos_token_id = ids("<|im_end|>")
    folder = Path(folder)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


# Qwen-Image's scheduler settings (its scheduler/scheduler_config.json).
QWEN_IMAGE_SCHEDULER = {
    "base_image_seq_len": 256,
    "base_shift": 0.5,
    "invert_sigmas": False,
    "max_image_seq_len": 8192,
    "max_shift": 0.9,
    "num_train_timesteps": 1000,
    "shift": 1.0,
    "shift_terminal": 0.02,
    "stochastic_sampling": False,
    "time_shift_type": "exponential",
    "use_beta_sigmas": False,
    "use_dynamic_shifting": True,
    "use_exponential_sigmas": False,
    "use_karras_sigmas": False,
}


def tiny_qwen_image_edit(seed: int = 0):
    """A QwenImageEditPipeline of tiny random components: transformer, VAE, Qwen2.5-VL text encoder."""
    import torch
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImageEditPipeline,
        QwenImageTransformer2DModel,
    )
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    tokenizer = qwen_tokenizer()
    ids = tokenizer.convert_tokens_to_ids
    torch.manual_seed(seed)
    z = 4
    transformer = QwenImageTransformer2DModel(
        patch_size=2, in_channels=4 * z, out_channels=z, num_layers=2, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, axes_dims_rope=(8, 4, 4),
    )
    vae = AutoencoderKLQwenImage(
        base_dim=8, z_dim=z, dim_mult=[1, 2, 4], num_res_blocks=1, temperal_downsample=[False, True],
        latents_mean=[0.0] * z, latents_std=[1.0] * z,
    )
    text_config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 4096,
            "rope_parameters": {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]},
        },
        vision_config={
            "depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 32,
            "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": 56,
            "fullatt_block_indexes": [1],
        },
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        bos_token_id=None,
        eos_token_id=ids("<|im_end|>"),
    )
    text_encoder = Qwen2_5_VLForConditionalGeneration(text_config).eval()
    patch = {"patch_size": 14, "merge_size": 2, "temporal_patch_size": 2}
    pixels = {"shortest_edge": 28 * 28, "longest_edge": 56 * 56}
    processor = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=pixels, **patch),
        video_processor=Qwen2VLVideoProcessor(size=pixels, **patch),
        tokenizer=tokenizer,
        chat_template=chat_template("qwen2_5_vl"),
    )
    return QwenImageEditPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**QWEN_IMAGE_SCHEDULER),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        processor=processor,
        transformer=transformer,
    )


def save_tiny_qwen_image_edit(folder: Path, seed: int = 0) -> Path:
    tiny_qwen_image_edit(seed).save_pretrained(folder)
    return Path(folder)
