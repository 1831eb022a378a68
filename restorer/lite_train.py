"""Training of the lite restorer (``rnr-train --stage restorer --backend lite``).

Pairs of an rnr-synth set, random crops, L1 to the clean crop. The diagnosis the
network is shown is the true one, *perturbed* for a share of the samples the way a
diagnoser errs: severities and parameters off by a little, a degradation missed, one
called that is not there (a false alarm on a clean crop must come back unchanged). So
the restorer learns to check a diagnosis against the pixels instead of following it
into a colour cast, and needs no diagnoser to train (the two stages run side by side).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from restorer.lite import LiteRestorer, photo_kernel
from restorer.priors import centre_padded, fog_assumed, haze_airlight, map_haze, nlm_denoise, with_image_airlight
from rnr.diagnosis import DEGRADATIONS, Diagnosis
from rnr.encoding import PARAM_SLOTS, encode, param_offset


@dataclass(frozen=True)
class LiteRestorerConfig:
    data: str = ""  # an rnr-synth set, or several joined by commas
    output: str = "runs/lite-restorer"
    max_steps: int = 4000
    batch_size: int = 12
    crop: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    empty_share: float = 0.1  # steps' samples trained with no diagnosis ("w/o reasoner" still works)
    perturb_share: float = 0.5  # samples whose diagnosis is perturbed as a diagnoser errs
    false_alarm: float = 0.08  # per absent degradation of a perturbed sample: called present
    miss: float = 0.05  # per present degradation of a perturbed sample: missed
    # Optionally, a lite reasoner's own diagnoses of the training images for a share of samples.
    reasoner: str = ""
    predicted_share: float = 0.5
    init: str = ""  # start from these weights (fine-tuning) instead of the zero-outlet network
    # Deconvolve shaken training images with the kernel estimated from each (restorer.kernels), as inference does.
    estimated_kernels: bool = True
    # "l1", or "psnr": the mean over the batch of each crop's 10·log10(MSE + 1e-5) (NAFNet's loss).
    # L1 barely sees a nearly clean crop (41 dB in, 32 dB out is a tiny L1 error); the log weighs
    # every crop by how good it already is, which is what "no sample made worse" asks.
    loss: str = "l1"
    threads: int = 2
    seed: int = 0
    logging_steps: int = 100

    def __post_init__(self) -> None:
        from rnr.config import ConfigError
        from rnr.pairs import check_crop_training

        check_crop_training(self, ("empty_share", "perturb_share", "false_alarm", "miss", "predicted_share"))
        if self.loss not in ("l1", "psnr"):
            raise ConfigError(f"loss must be l1 or psnr, got {self.loss!r}")


def slot_ranges() -> list[tuple[int, int]]:
    """(start, stop) of each degradation's parameters in the condition vector."""
    return [(param_offset(name), param_offset(name) + len(PARAM_SLOTS[name])) for name in DEGRADATIONS]


def perturb(conditions, pool, generator, config: LiteRestorerConfig):
    """Diagnoser-like errors in a batch of condition vectors; `pool` holds every training vector (donors of false alarms)."""
    import torch

    n = len(DEGRADATIONS)
    out = conditions.clone()
    rows = torch.rand(len(out), generator=generator) < config.perturb_share
    wobble = lambda shape, size: 1 + size * torch.randn(shape, generator=generator)  # noqa: E731
    out[:, n : 2 * n] = torch.where(rows[:, None], (out[:, n : 2 * n] * wobble((len(out), n), 0.2)).clamp(0, 1), out[:, n : 2 * n])
    noise = 0.04 * torch.randn(out[:, 2 * n :].shape, generator=generator)
    out[:, 2 * n :] = torch.where(rows[:, None] & (out[:, 2 * n :] != 0), out[:, 2 * n :] + noise, out[:, 2 * n :])
    for i, (start, stop) in enumerate(slot_ranges()):
        present = out[:, i] > 0.5
        missed = rows & present & (torch.rand(len(out), generator=generator) < config.miss)
        out[missed, i], out[missed, n + i], out[missed, start:stop] = 0.0, 0.0, 0.0
        donors = torch.nonzero(pool[:, i] > 0.5).flatten()
        alarms = rows & ~present & (torch.rand(len(out), generator=generator) < config.false_alarm)
        if len(donors) and bool(alarms.any()):
            chosen = donors[torch.randint(len(donors), (int(alarms.sum()),), generator=generator)]
            out[alarms, i], out[alarms, n + i] = 1.0, pool[chosen, n + i]
            out[alarms, start:stop] = pool[chosen, start:stop]
    return out


def train(config: LiteRestorerConfig) -> Path:
    import torch

    from restorer.lite_net import LiteRestorationNet
    from rnr.pairs import flip_pairs, load_pairs, random_crops, seeded, train_on_crops

    pairs = load_pairs(config.data)
    conditions = torch.from_numpy(np.stack([encode(Diagnosis.from_record(r)) for r in pairs.records]))
    predicted = predicted_conditions(config.reasoner, pairs.degraded) if config.reasoner else None
    airlights = training_airlights(pairs.degraded)
    hazes = training_hazes(pairs.degraded, conditions, airlights)
    kernels = training_kernels(pairs.degraded, conditions) if config.estimated_kernels else None
    restorer = LiteRestorer.load(config.init) if config.init else LiteRestorer(model=seeded(LiteRestorationNet, config.seed))
    restorer.model.train()
    generator = torch.Generator().manual_seed(config.seed)

    def step_loss(rng):
        index, clean, degraded = random_crops(pairs, rng, config.batch_size, config.crop)
        condition = perturb(conditions[index], conditions, generator, config)
        if predicted is not None:
            chosen = torch.rand(len(index), generator=generator) < config.predicted_share
            condition[chosen] = predicted[index][chosen]
        condition[torch.rand(len(index), generator=generator) < config.empty_share] = 0
        condition = with_image_airlight(condition, airlights[index])  # as at inference: the photo's own
        if kernels is None:
            (clean, degraded), condition = flip_pairs([clean, degraded], condition, rng)
            kernel = None
        else:  # a kernel flips with its image
            (clean, degraded, kernel), condition = flip_pairs([clean, degraded, kernels[index][:, None]], condition, rng)
            kernel = kernel[:, 0]
        temperature = float(rng.uniform(0, 1)) if rng.random() < 0.5 else 0.0
        restored = restorer.forward(degraded, condition, generator, temperature, hazes[index], kernel)
        return restoration_loss(restored, clean, config.loss)

    return train_on_crops(restorer.model, step_loss, config, "lite-restorer.safetensors", "restorer", config.loss)


def as_tensor(image):
    """An 8-bit (H, W, 3) training image as a (1, 3, H, W) float tensor in [0, 1]."""
    import torch

    return torch.from_numpy(np.asarray(image, np.float32) / 255).permute(2, 0, 1)[None]


def training_airlights(degraded_images):
    """(N, 3): each whole training image's haze airlight (`restorer.priors.haze_airlight`), before cropping."""
    import torch

    return torch.cat([haze_airlight(as_tensor(image)) for image in degraded_images])


def training_hazes(degraded_images, conditions, airlights):
    """(N,): each whole training image's fog-map haze (`restorer.priors.map_haze`), before cropping.

    At inference a photo restored whole measures its own; a crop would read only its
    part. Measured with fog assumed (the image's airlight), so that a false fog call in
    training meets the haze the map would read; on the denoised image as the prior sees
    it, but not deblurred (0.2 s an image more, and blur hardly moves a dark channel).
    """
    import torch

    hazes = []
    with torch.no_grad():
        for image, condition, light in zip(degraded_images, conditions, airlights):
            foggy = fog_assumed(condition[None], light[None])
            hazes.append(map_haze(nlm_denoise(as_tensor(image), foggy), foggy))
    return torch.cat(hazes)


def training_kernels(degraded_images, conditions):
    """(N, k, k): each whole training image's shake kernel estimated as at inference (`photo_kernel`), before cropping.

    With its true diagnosis's kernel size; zeros where it has no shake, so that a false shake
    call in training deconvolves with the diagnosis's line kernel (`restorer.priors.deblur_kernels`).
    A crop is too small to estimate a kernel from, and an inference tile shares its photo's.
    """
    import torch
    from tqdm import tqdm

    found = []
    for image, condition in tqdm(list(zip(degraded_images, conditions)), desc="kernels", unit="image", leave=False):
        kernel = photo_kernel(np.asarray(image, np.float32) / 255, condition[None])
        found.append(kernel[0] if kernel is not None else torch.zeros(1, 1))
    size = max(kernel.shape[-1] for kernel in found)
    return torch.stack([centre_padded(kernel[None], size)[0] for kernel in found])


def restoration_loss(restored, clean, kind: str = "l1"):
    """L1, or the mean per-crop 10·log10(MSE + 1e-5) (lower is better; −50 is a perfect crop)."""
    import torch

    if kind == "l1":
        return torch.nn.functional.l1_loss(restored, clean)
    mse = ((restored - clean) ** 2).flatten(1).mean(dim=1)
    return (10 * torch.log10(mse + 1e-5)).mean()


def predicted_conditions(reasoner_weights: str, degraded_images):
    """The lite reasoner's diagnoses of uint8 training images, as condition vectors [N, 26]."""
    import torch

    from reasoner.lite import LiteReasoner

    diagnoses = LiteReasoner.load(reasoner_weights).diagnose(list(degraded_images))  # uint8 in: it converts
    return torch.from_numpy(np.stack([encode(d) for d in diagnoses]))
