"""The Qwen-Image-Edit restorer (paper section 3.2), conditioned on the reasoner's `Diagnosis`.

`QwenEditRestorer` wraps diffusers' `QwenImageEditPipeline` and runs its own denoising
call, shaped like the pipeline's (encode the instruction with the degraded image, prepare
latents, flow-matching Euler steps, decode), with two differences a restorer needs:

- the working resolution is an option (`max_pixels`), not the pipeline's fixed ~1024²,
  and every image keeps its own size and aspect: outputs come back at the input's size;
- the prompt-drop index is computed from the loaded tokenizer and template (the stock
  pipeline hard-codes 64, right only for the real Qwen tokenizer), so any
  Qwen-Image-Edit-compatible folder, a tiny local one included, loads and runs.

The denoising loop can keep the gradient for its last steps (`grad_steps`), which is
what the GRPO stage trains through.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from restorer.prompts import Ablation
from rnr.devices import resolve_device, torch_dtype
from rnr.diagnosis import Diagnosis
from rnr.imageio import to_pil

NEGATIVE_PROMPT = " "  # Qwen-Image-Edit's usual empty negative for true CFG


class RestorerLoadError(ValueError):
    """A model that cannot be loaded as a Qwen-Image-Edit restorer; the message says what to give."""


def prompt_drop_index(pipeline) -> int:
    """How many leading tokens of the encoded template are the system part to drop.

    The pipeline keeps the text encoder's states from the vision block on: everything
    before ``<|vision_start|>`` is the fixed system prompt (64 tokens with the real
    Qwen2.5-VL tokenizer).
    """
    prefix = pipeline.prompt_template_encode.split("<|vision_start|>")[0]
    return len(pipeline.tokenizer(prefix)["input_ids"])


def working_size(width: int, height: int, max_pixels: int, multiple: int) -> tuple[int, int]:
    """(width, height) with the input's aspect, area at most `max_pixels`, multiples of `multiple`.

    >>> working_size(4000, 3000, 1024 * 1024, 16)
    (1184, 880)
    >>> working_size(100, 60, 1024 * 1024, 16)
    (96, 64)
    """
    scale = min(1.0, math.sqrt(max_pixels / (width * height)))
    w = max(multiple, int(round(width * scale / multiple)) * multiple)
    h = max(multiple, int(round(height * scale / multiple)) * multiple)
    while w * h > max_pixels and (w > multiple or h > multiple):  # rounding up may overshoot the budget
        if w >= h:
            w -= multiple
        else:
            h -= multiple
    return w, h


def encode_latents(pipeline, image, height: int, width: int):
    """An image to the pipeline's normalised VAE latents (mode of the posterior), shape (z, 1, h, w): `decode`'s inverse."""
    import torch

    pixels = pipeline.image_processor.preprocess(image, height, width).unsqueeze(2).to(pipeline.vae.device, pipeline.vae.dtype)
    latents = pipeline.vae.encode(pixels).latent_dist.mode()
    z = pipeline.vae.config.z_dim
    mean = torch.tensor(pipeline.vae.config.latents_mean).view(1, z, 1, 1, 1).to(latents)
    std = torch.tensor(pipeline.vae.config.latents_std).view(1, z, 1, 1, 1).to(latents)
    return ((latents - mean) / std)[0]


def resolve_restorer_path(path: str, model: str | None = None) -> tuple[str, str | None]:
    """(base, lora): an rnr-train restorer output names its base in rnr-restorer.json."""
    import json
    from pathlib import Path

    folder = Path(path)
    if (folder / "rnr-restorer.json").is_file():
        return model or json.loads((folder / "rnr-restorer.json").read_text())["base"], str(folder)
    if (folder / "pytorch_lora_weights.safetensors").is_file():
        if not model:
            raise RestorerLoadError(f"{path}: a LoRA that does not name its base model; give the base too")
        return model, str(folder)
    return path, None


class QwenEditRestorer:
    """Restore photos with Qwen-Image-Edit (plus an optional LoRA), guided by a diagnosis."""

    def __init__(self, pipeline, max_pixels: int = 1024 * 1024, steps: int = 30, guidance: float = 4.0, ablation: Ablation = Ablation()):
        self.pipeline = pipeline
        pipeline.prompt_template_encode_start_idx = prompt_drop_index(pipeline)
        self.max_pixels = max_pixels
        self.steps = steps
        self.guidance = guidance
        self.ablation = ablation

    @classmethod
    def from_pretrained(
        cls,
        base: str,
        lora: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
        cpu_offload: bool = False,
        vae_tiling: bool = False,
        attention_slicing: bool = False,
        **options: Any,
    ) -> "QwenEditRestorer":
        from diffusers import QwenImageEditPipeline

        device = resolve_device(device)
        try:
            weights_dtype = torch_dtype(dtype, device)
        except ValueError as error:
            raise RestorerLoadError(str(error)) from None
        try:
            pipeline = QwenImageEditPipeline.from_pretrained(base, dtype=weights_dtype)
        except (OSError, ValueError, TypeError) as error:
            raise RestorerLoadError(
                f"{base}: cannot load a Qwen-Image-Edit pipeline ({str(error).splitlines()[0]}); "
                "give a folder saved with save_pretrained or a cached hub id"
            ) from None
        if lora is not None:
            try:
                pipeline.load_lora_weights(lora)
            except (OSError, ValueError) as error:
                raise RestorerLoadError(f"{lora}: not a Qwen-Image-Edit LoRA ({str(error).splitlines()[0]})") from None
        if cpu_offload:
            pipeline.enable_model_cpu_offload(device=device)
        else:
            pipeline.to(device)
        if vae_tiling:
            pipeline.vae.enable_tiling()
        if attention_slicing and hasattr(pipeline, "enable_attention_slicing"):
            pipeline.enable_attention_slicing()
        return cls(pipeline, **options)

    # -- the denoising call -----------------------------------------------------------
    def denoise(
        self,
        image: Any,
        prompt: str,
        steps: int,
        guidance: float,
        generator,
        max_pixels: int,
        grad_steps: int = 0,
        output: str = "image",
    ):
        """One image through the edit pipeline's steps; returns a (3, H, W) tensor in [0, 1] or latents.

        The last `grad_steps` transformer calls keep their graph (the GRPO stage's gradient
        path); the earlier ones run under no_grad.
        """
        import torch
        from diffusers.pipelines.qwenimage.pipeline_qwenimage_edit import calculate_shift, retrieve_timesteps

        pipe = self.pipeline
        device = pipe._execution_device
        pil = to_pil(image)
        multiple = pipe.vae_scale_factor * 2
        width, height = working_size(pil.width, pil.height, max_pixels, multiple)
        condition = pipe.image_processor.resize(pil, height, width)
        with torch.no_grad():
            pixels = pipe.image_processor.preprocess(condition, height, width).unsqueeze(2)
            embeds, mask = pipe.encode_prompt(image=condition, prompt=[prompt], device=device)
            negative = None
            if guidance > 1:
                negative = pipe.encode_prompt(image=condition, prompt=[NEGATIVE_PROMPT], device=device)
            latents, image_latents = pipe.prepare_latents(
                pixels, 1, pipe.transformer.config.in_channels // 4, height, width, embeds.dtype, device, generator
            )
        shapes = [[(1, height // multiple, width // multiple), (1, height // multiple, width // multiple)]]
        sigmas = np.linspace(1.0, 1 / steps, steps)
        mu = calculate_shift(
            latents.shape[1],
            pipe.scheduler.config.get("base_image_seq_len", 256),
            pipe.scheduler.config.get("max_image_seq_len", 4096),
            pipe.scheduler.config.get("base_shift", 0.5),
            pipe.scheduler.config.get("max_shift", 1.15),
        )
        timesteps, _ = retrieve_timesteps(pipe.scheduler, steps, device, sigmas=sigmas, mu=mu)
        pipe.scheduler.set_begin_index(0)
        for index, t in enumerate(timesteps):
            keep_graph = index >= len(timesteps) - grad_steps
            with torch.set_grad_enabled(keep_graph):
                velocity = self._velocity(latents, image_latents, t, embeds, mask, shapes, negative, guidance)
                latents = pipe.scheduler.step(velocity, t, latents, return_dict=False)[0]
        if output == "latent":
            return latents
        return self.decode(latents, height, width)

    def _velocity(self, latents, image_latents, t, embeds, mask, shapes, negative, guidance):
        import torch

        transformer = self.pipeline.transformer
        model_input = torch.cat([latents, image_latents], dim=1)
        timestep = t.expand(latents.shape[0]).to(latents.dtype) / 1000
        kwargs = {"hidden_states": model_input, "timestep": timestep, "img_shapes": shapes, "return_dict": False}
        prediction = transformer(encoder_hidden_states=embeds, encoder_hidden_states_mask=mask, **kwargs)[0]
        prediction = prediction[:, : latents.size(1)]
        if negative is not None:
            negative_prediction = transformer(encoder_hidden_states=negative[0], encoder_hidden_states_mask=negative[1], **kwargs)[0]
            negative_prediction = negative_prediction[:, : latents.size(1)]
            combined = negative_prediction + guidance * (prediction - negative_prediction)
            # Qwen-Image's norm-preserving CFG
            prediction = combined * (prediction.norm(dim=-1, keepdim=True) / combined.norm(dim=-1, keepdim=True))
        return prediction

    def decode(self, latents, height: int, width: int):
        """Packed latents to a (3, H, W) float tensor in [0, 1] (differentiable)."""
        import torch

        pipe = self.pipeline
        latents = pipe._unpack_latents(latents, height, width, pipe.vae_scale_factor).to(pipe.vae.dtype)
        z = pipe.vae.config.z_dim
        mean = torch.tensor(pipe.vae.config.latents_mean).view(1, z, 1, 1, 1).to(latents)
        std = torch.tensor(pipe.vae.config.latents_std).view(1, z, 1, 1, 1).to(latents)
        decoded = pipe.vae.decode(latents * std + mean, return_dict=False)[0][:, :, 0]
        return ((decoded[0].float() + 1) / 2).clamp(0, 1)

    # -- the public calls ---------------------------------------------------------------
    def restore(
        self,
        images: Sequence[Any],
        diagnoses: Sequence[Diagnosis | None],
        steps: int | None = None,
        guidance: float | None = None,
        generator=None,
        max_pixels: int | None = None,
    ) -> list[np.ndarray]:
        """Restored images, float32 (H, W, 3) in [0, 1], each at its input's size."""
        import torch

        if len(images) != len(diagnoses):
            raise ValueError(f"{len(images)} images but {len(diagnoses)} diagnoses: give one diagnosis per image")
        outputs = []
        for image, diagnosis in zip(images, diagnoses):
            pil = to_pil(image)
            with torch.no_grad():
                restored = self.denoise(
                    pil, self.ablation.prompt(diagnosis), steps or self.steps,
                    self.guidance if guidance is None else guidance, generator, max_pixels or self.max_pixels,
                )
            outputs.append(_resize(restored.permute(1, 2, 0).cpu().numpy(), pil.width, pil.height))
        return outputs

    def sample(self, images: Sequence[Any], diagnoses: Sequence[Diagnosis | None], n: int, generator, **kwargs) -> list[list[np.ndarray]]:
        """A group of `n` candidates per input, from `n` noise seeds drawn from `generator`."""
        import torch

        seeds = torch.randint(0, 2**31 - 1, (len(images), n), generator=generator).tolist()
        groups = []
        for image, diagnosis, row in zip(images, diagnoses, seeds):
            groups.append(
                [self.restore([image], [diagnosis], generator=torch.Generator().manual_seed(s), **kwargs)[0] for s in row]
            )
        return groups


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    import cv2

    image = np.ascontiguousarray(image, dtype=np.float32)
    if image.shape[:2] == (height, width):
        return image
    return np.clip(cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC), 0, 1)
