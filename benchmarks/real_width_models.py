"""Randomly initialised Qwen models at their published width, at any depth (issue 16).

No weights can be downloaded here, so the real classes are built from the published
configs with random weights: every hidden size, head count, vocabulary, vision tower and
VAE is the real one, and only the number of decoder layers is chosen (`text_layers`,
`transformer_layers`). Costs that grow with depth are then measured at one and two layers
and extrapolated (benchmarks/bench_real_width.py); on a GPU the full depth is built
(benchmarks/gpu_check.py). Random models emit garbage text: measure cost, not content.

Where each value comes from (the Hugging Face model repositories' config files, read as
mirrored in public code through the project's search tool, each seen in two or more
independent copies; the diffusers classes' defaults equal the Qwen-Image-Edit ones, see
`diffusers.QwenImageTransformer2DModel.__init__` and `AutoencoderKLQwenImage.__init__`):

- Qwen/Qwen3-VL-2B-Instruct, -4B-Instruct, -8B-Instruct: ``config.json`` (text_config,
  vision_config, tie_word_embeddings) and ``preprocessor_config.json`` (patch 16, merge 2,
  size 65536..16777216 pixels, mean/std 0.5).
- Qwen/Qwen-Image-Edit: ``transformer/config.json``, ``vae/config.json``,
  ``text_encoder/config.json`` (Qwen2.5-VL-7B-Instruct's), ``processor/preprocessor_config.json``
  (patch 14, min_pixels 3136, max_pixels 12845056, the CLIP mean/std),
  ``scheduler/scheduler_config.json`` (tests/tiny_models.QWEN_IMAGE_SCHEDULER).

The tokenizer is the small byte-level BPE the tests build (no hub): the vocabulary
*size* is the published one (so embeddings and the LM head are full size), the token ids
used are a few hundred; prompts therefore cost about as many tokens as with the real one.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "tests"):  # the package (also where it is not installed) and the tests' tokenizer
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

# Qwen/Qwen3-VL-*-Instruct config.json. Text towers are Qwen3 decoders with QK-norm; vision towers
# are SigLIP-2-style ViTs whose DeepStack mergers feed the listed blocks' features to the first text layers.
QWEN3_VL = {
    "qwen3-vl-2b": {
        "text": {"hidden_size": 2048, "intermediate_size": 6144, "num_hidden_layers": 28, "num_attention_heads": 16,
                 "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936},
        "vision": {"depth": 24, "hidden_size": 1024, "intermediate_size": 4096, "num_heads": 16, "out_hidden_size": 2048,
                   "deepstack_visual_indexes": [5, 11, 17]},
        "tie_word_embeddings": True,
    },
    "qwen3-vl-4b": {
        "text": {"hidden_size": 2560, "intermediate_size": 9728, "num_hidden_layers": 36, "num_attention_heads": 32,
                 "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936},
        "vision": {"depth": 24, "hidden_size": 1024, "intermediate_size": 4096, "num_heads": 16, "out_hidden_size": 2560,
                   "deepstack_visual_indexes": [5, 11, 17]},
        "tie_word_embeddings": True,
    },
    "qwen3-vl-8b": {
        "text": {"hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 36, "num_attention_heads": 32,
                 "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936},
        "vision": {"depth": 27, "hidden_size": 1152, "intermediate_size": 4304, "num_heads": 16, "out_hidden_size": 4096,
                   "deepstack_visual_indexes": [8, 16, 24]},
        "tie_word_embeddings": False,
    },
}
# Shared by all three: rope (theta 5e6, interleaved mrope [24, 20, 20]), the vision patching, 48x48 position grid.
QWEN3_VL_ROPE = {"rope_type": "default", "rope_theta": 5_000_000.0, "mrope_section": [24, 20, 20], "mrope_interleaved": True}
QWEN3_VL_PATCHING = {"patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2, "num_position_embeddings": 2304}
QWEN3_VL_PIXELS = {"shortest_edge": 65536, "longest_edge": 16777216}

# Qwen/Qwen-Image-Edit: the MMDiT, the VAE (Wan-2.1 style, 8x spatial), the Qwen2.5-VL-7B text encoder.
QWEN_IMAGE_TRANSFORMER = {
    "patch_size": 2, "in_channels": 64, "out_channels": 16, "num_layers": 60, "attention_head_dim": 128,
    "num_attention_heads": 24, "joint_attention_dim": 3584, "axes_dims_rope": (16, 56, 56),
}
QWEN_IMAGE_VAE = {
    "base_dim": 96, "z_dim": 16, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2, "attn_scales": [],
    "temperal_downsample": [False, True, True],
    "latents_mean": [-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
                     0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921],
    "latents_std": [2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
                    3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.916],
}
QWEN_IMAGE_TEXT_ENCODER = {
    "text": {"hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28,
             "num_key_value_heads": 4, "vocab_size": 152064,
             "rope_parameters": {"rope_type": "default", "rope_theta": 1_000_000.0, "mrope_section": [16, 24, 24]}},
    "vision": {"depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16, "out_hidden_size": 3584,
               "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": 112,
               "fullatt_block_indexes": [7, 15, 23, 31], "tokens_per_second": 2},
    "tie_word_embeddings": False,
}
QWEN_IMAGE_PIXELS = {"shortest_edge": 3136, "longest_edge": 12845056}
CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]

# Where each model's repeated layers live, for counting what one layer weighs.
STACKS = {
    "reasoner": "model.language_model.layers",
    "text_encoder": "model.language_model.layers",
    "transformer": "transformer_blocks",
}


@contextlib.contextmanager
def building(dtype, device):
    """Parameters created directly in `dtype` on `device` (a full-size model never exists in fp32),
    with the initialisers switched off: `fill_random` sets the values afterwards."""
    import torch
    from transformers.initialization import no_init_weights

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device), no_init_weights():
            yield
    finally:
        torch.set_default_dtype(previous)


def fill_random(module, seed: int = 0) -> None:
    """Random weights at memory speed: one pool of normals, tiled, scaled by 1/sqrt(fan-in).

    torch's initialisers draw every value (about 60 M/s on 2 busy cores: a minute for the
    text encoder alone); tiling a pool of 2^20 + 1 values (odd, so rows differ) costs the
    same matrix products and keeps activations at the usual scale. Vectors (norm scales,
    the VAE's (C, 1, 1) ones, biases) get 1 and 0 as their own initialisers would.
    """
    import torch

    pool = torch.randn((1 << 20) + 1, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            if parameter.numel() == max(parameter.shape, default=1):
                parameter.fill_(0.0 if name.endswith("bias") else 1.0)
                continue
            values = (pool * parameter[0].numel() ** -0.5).to(parameter.device, parameter.dtype)
            flat, size = parameter.view(-1), values.numel()
            whole = flat.numel() // size * size
            flat[:whole].view(-1, size).copy_(values.expand(whole // size, size))
            flat[whole:].copy_(values[: flat.numel() - whole])


def qwen3_vl_processor(tokenizer):
    from tiny_models import chat_template
    from transformers import Qwen2VLImageProcessor, Qwen3VLProcessor, Qwen3VLVideoProcessor

    patch = {"patch_size": 16, "merge_size": 2, "temporal_patch_size": 2}
    return Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=dict(QWEN3_VL_PIXELS), image_mean=[0.5] * 3, image_std=[0.5] * 3, **patch),
        video_processor=Qwen3VLVideoProcessor(size=dict(QWEN3_VL_PIXELS), **patch),
        tokenizer=tokenizer,
        chat_template=chat_template("qwen3_vl"),
    )


def qwen3_vl(name: str, text_layers: int | None = None, dtype: str = "bfloat16", device: str = "cpu", seed: int = 0):
    """(model, processor): Qwen3-VL `name` at full width, `text_layers` text layers (None: all), full vision tower."""
    import torch
    from tiny_models import qwen_tokenizer
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    spec = QWEN3_VL[name]
    tokenizer = qwen_tokenizer()
    ids = tokenizer.convert_tokens_to_ids
    text = {**spec["text"], "rope_parameters": dict(QWEN3_VL_ROPE), "max_position_embeddings": 262144,
            "pad_token_id": ids("<|endoftext|>")}
    if text_layers is not None:
        text["num_hidden_layers"] = text_layers
    config = Qwen3VLConfig(
        text_config=text,
        vision_config={**spec["vision"], **QWEN3_VL_PATCHING, "hidden_act": "gelu_pytorch_tanh"},
        tie_word_embeddings=spec["tie_word_embeddings"],
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )
    with building(getattr(torch, dtype), device):
        model = Qwen3VLForConditionalGeneration(config).eval()
    model.tie_weights()  # no_init_weights skips the tying that initialisation does
    fill_random(model, seed)
    model.generation_config.pad_token_id = ids("<|endoftext|>")
    model.generation_config.eos_token_id = ids("<|im_end|>")
    return model, qwen3_vl_processor(tokenizer)


def save_qwen3_vl(folder: Path, name: str, text_layers: int | None = None, dtype: str = "bfloat16", device: str = "cpu") -> Path:
    """`qwen3_vl(...)` saved like a hub folder, for the code paths that load one (SFT, QwenReasoner)."""
    model, processor = qwen3_vl(name, text_layers, dtype, device)
    folder = Path(folder)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def qwen_image_edit(transformer_layers: int | None = None, text_layers: int | None = None, dtype: str = "bfloat16",
                    device: str = "cpu", seed: int = 0):
    """A QwenImageEditPipeline at full width: the real VAE, `transformer_layers` of 60 MMDiT blocks,
    `text_layers` of the text encoder's 28 (None: all), its full vision tower."""
    import torch
    from diffusers import AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler, QwenImageEditPipeline, QwenImageTransformer2DModel
    from tiny_models import QWEN_IMAGE_SCHEDULER, chat_template, qwen_tokenizer
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2VLImageProcessor, Qwen2VLProcessor, Qwen2VLVideoProcessor

    tokenizer = qwen_tokenizer()
    ids = tokenizer.convert_tokens_to_ids
    text = dict(QWEN_IMAGE_TEXT_ENCODER["text"], max_position_embeddings=128000)
    if text_layers is not None:
        text["num_hidden_layers"] = text_layers
    encoder_config = Qwen2_5_VLConfig(
        text_config=text,
        vision_config={**QWEN_IMAGE_TEXT_ENCODER["vision"], "hidden_act": "silu"},
        tie_word_embeddings=QWEN_IMAGE_TEXT_ENCODER["tie_word_embeddings"],
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        bos_token_id=None,
        eos_token_id=ids("<|im_end|>"),
    )
    transformer_config = dict(QWEN_IMAGE_TRANSFORMER)
    if transformer_layers is not None:
        transformer_config["num_layers"] = transformer_layers
    with building(getattr(torch, dtype), device):
        transformer = QwenImageTransformer2DModel(**transformer_config)
        vae = AutoencoderKLQwenImage(**QWEN_IMAGE_VAE)
        text_encoder = Qwen2_5_VLForConditionalGeneration(encoder_config).eval()
    text_encoder.tie_weights()
    for offset, module in enumerate((transformer, vae, text_encoder)):
        fill_random(module, seed + offset)
    patch = {"patch_size": 14, "merge_size": 2, "temporal_patch_size": 2}
    processor = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=dict(QWEN_IMAGE_PIXELS), image_mean=CLIP_MEAN, image_std=CLIP_STD, **patch),
        video_processor=Qwen2VLVideoProcessor(size=dict(QWEN_IMAGE_PIXELS), **patch),
        tokenizer=tokenizer,
        chat_template=chat_template("qwen2_5_vl"),
    )
    return QwenImageEditPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**QWEN_IMAGE_SCHEDULER), vae=vae, text_encoder=text_encoder,
        tokenizer=tokenizer, processor=processor, transformer=transformer,
    )


def full_depth(component: str, name: str = "qwen3-vl-8b") -> int:
    """How many repeated layers the published model has: 28/36/36 (Qwen3-VL 2B/4B/8B text), 28, 60."""
    if component == "reasoner":
        return QWEN3_VL[name]["text"]["num_hidden_layers"]
    return {"text_encoder": QWEN_IMAGE_TEXT_ENCODER["text"]["num_hidden_layers"], "transformer": QWEN_IMAGE_TRANSFORMER["num_layers"]}[component]


def weight_split(module: Any, component: str) -> dict[str, int]:
    """Bytes of one repeated layer and of everything else (embeddings, heads, vision tower) in `module`."""
    stack = module
    for attribute in STACKS[component].split("."):
        stack = getattr(stack, attribute)
    per_layer = sum(p.numel() * p.element_size() for p in stack[0].parameters())
    total = sum(p.numel() * p.element_size() for p in module.parameters())  # tied weights are counted once
    return {"layer_bytes": per_layer, "rest_bytes": total - per_layer * len(stack), "layers": len(stack)}


def full_size_bytes(split: dict[str, int], component: str, name: str = "qwen3-vl-8b") -> int:
    """The published model's weight bytes, from one layer's exact size and the rest."""
    return split["rest_bytes"] + split["layer_bytes"] * full_depth(component, name)
