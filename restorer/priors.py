"""Physical priors for the lite restorer: the diagnosis's parameters turned into pictures.

The degradation model is ``I = B_k(t·J + (1 − t)·A) + S_rain + N`` (fog, then shake,
then rain, then noise). Two of its steps invert in closed form when the diagnosis
gives their parameters, so the network is handed their inverses beside the input
instead of having to learn them from a few hundred thousand weights:

- shake: deconvolution with the Gaussian kernel the diagnosis describes (direction and
  effective length along it; across it, what the severity's RMS radius leaves), as a
  constrained least-squares filter (a Laplacian penalty: flat areas and the mean level
  are kept exactly), regularised more when noise is diagnosed, since deconvolution
  amplifies it. On the synthesizer's random-walk kernels, with the true parameters, this
  gains ~+1 dB alone (+1.7 dB with the true kernel, which no diagnosis carries); the
  network does the rest;
- fog: ``J = (I − A·(1 − t)) / t`` with the diagnosed airlight and mean transmission,
  applied to the deblurred image (fog happened before the blur). On a greyscale photo
  the airlight's colour is dropped (its grey level is kept), so no colour is invented.

Both work on batches of (B, 3, H, W) tensors in [0, 1] and condition vectors
(`rnr.encoding`); a degradation not diagnosed leaves the image as it is.
"""

from __future__ import annotations

import math

import numpy as np

from restorer.classical import line_kernel
from rnr.diagnosis import DEGRADATIONS
from rnr.encoding import param_offset

FOG_T_FLOOR = 0.2  # the inversion divides by t: keep it from amplifying noise in dense fog
# Laplacian-penalty weight without noise: swept 0.002-1 on shaken samples with true parameters
# (0.3 best for the Gaussian approximation); the diagnosed kernel only approximates the real one.
DEBLUR_BALANCE = 0.3
DEBLUR_NOISE_BALANCE = 20.0  # extra weight per unit of diagnosed mean sigma (0.05 sigma doubles it)
GREY_SPREAD = 2.0 / 255  # a photo whose channels differ by less than this everywhere is greyscale


def is_greyscale(image) -> "torch.Tensor":  # noqa: F821 - torch is imported lazily
    """(B,) bool: every pixel's channels within `GREY_SPREAD` of each other."""
    spread = image.amax(dim=1) - image.amin(dim=1)
    return spread.flatten(1).amax(dim=1) <= GREY_SPREAD


def fog_inversion(image, condition):
    """``(I − A·(1 − t)) / t`` where fog is diagnosed with its parameters (t floored), else the image."""
    import torch

    start = param_offset("fog")
    present = condition[:, 0].view(-1, 1, 1, 1)
    light = condition[:, start : start + 3].view(-1, 3, 1, 1)
    grey_light = light.mean(dim=1, keepdim=True).expand_as(light)
    light = torch.where(is_greyscale(image).view(-1, 1, 1, 1), grey_light, light)
    raw_t = condition[:, start + 4].view(-1, 1, 1, 1)
    t = raw_t.clamp(min=FOG_T_FLOOR)
    dehazed = ((image - light * (1 - t)) / t).clamp(0, 1)
    return torch.where((present > 0.5) & (raw_t > 0), dehazed, image)  # t = 0: parameters withheld


def shake_kernels(condition, size: int) -> "torch.Tensor":  # noqa: F821
    """(B, size, size) line kernels from the diagnosed direction and length (zeros where no shake)."""
    import torch

    start, index = param_offset("shake"), DEGRADATIONS.index("shake")
    kernels = np.zeros((condition.shape[0], size, size), np.float32)
    for row, vector in enumerate(condition.detach().cpu().numpy()):
        length = min(float(vector[start + 2]) * 10, (size - 1) / 6)  # the encoding stores length / 10
        if vector[index] < 0.5 or length <= 0.3:
            continue
        direction = math.degrees(math.atan2(vector[start], vector[start + 1])) / 2
        kernel = line_kernel(direction, length, across_width(vector, length))
        pad = (size - kernel.shape[0]) // 2
        kernels[row, pad : pad + kernel.shape[0], pad : pad + kernel.shape[1]] = kernel
    return torch.from_numpy(kernels)


def across_width(vector: np.ndarray, length: float) -> float:
    """The kernel's std across its direction: sqrt(r_rms² − length²), r_rms from the severity and canvas.

    The severity is ``r_rms / r_max · 99 + 1`` with ``r_max = (kernel_size − 1) / 2``
    (degradations.shake); the effective length is the RMS radius along the direction.
    """
    n = len(DEGRADATIONS)
    index = DEGRADATIONS.index("shake")
    r_max = (max(float(vector[param_offset("shake") + 4]) * 31, 3.0) - 1) / 2  # kernel size / 31
    r_rms = max(float(vector[n + index]) * 100 - 1, 0.0) / 99 * r_max
    return float(np.clip(math.sqrt(max(r_rms**2 - length**2, 0.0)), 0.4, length))


def laplacian_power(height: int, width: int):
    """|FFT of the 5-point Laplacian|² on a height x width grid (rfft layout)."""
    import torch

    laplacian = torch.zeros(height, width)
    laplacian[0, 0] = 4.0
    laplacian[0, 1] = laplacian[1, 0] = laplacian[0, -1] = laplacian[-1, 0] = -1.0
    return torch.fft.rfft2(laplacian).abs() ** 2


def wiener_deblur(image, condition, size: int = 31):
    """Least-squares deconvolution with each sample's diagnosed kernel, on a reflected border."""
    import torch
    import torch.nn.functional as F

    kernels = shake_kernels(condition, size)
    shaken = kernels.flatten(1).sum(dim=1) > 0
    if not bool(shaken.any()):
        return image
    pad = size
    padded = F.pad(image, (pad, pad, pad, pad), mode="reflect") if min(image.shape[-2:]) > pad else F.pad(image, (pad,) * 4, mode="replicate")
    height, width = padded.shape[-2:]
    canvas = torch.zeros(image.shape[0], height, width)
    canvas[:, :size, :size] = kernels
    canvas = torch.roll(canvas, shifts=(-(size // 2), -(size // 2)), dims=(1, 2))  # centre at the origin
    transfer = torch.fft.rfft2(canvas)[:, None]
    sigma = condition[:, param_offset("noise") + 2].clamp(min=0) / 10  # the encoding stores sigma * 10
    balance = (DEBLUR_BALANCE * (1 + DEBLUR_NOISE_BALANCE * sigma)).view(-1, 1, 1, 1)
    penalty = balance * laplacian_power(height, width)
    restored = torch.fft.irfft2(torch.fft.rfft2(padded) * transfer.conj() / (transfer.abs() ** 2 + penalty), s=(height, width))
    restored = restored[..., pad : pad + image.shape[-2], pad : pad + image.shape[-1]].clamp(0, 1)
    return torch.where(shaken.view(-1, 1, 1, 1), restored, image)


def physical_priors(image, condition):
    """(deblurred, restored): the Wiener-deblurred image, and it with the fog inverted too."""
    deblurred = wiener_deblur(image, condition)
    return deblurred, fog_inversion(deblurred, condition)
