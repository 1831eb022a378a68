"""Physical priors for the lite restorer: the diagnosis's parameters turned into pictures.

The degradation model is ``I = B_k(t·J + (1 − t)·A) + S_rain + N`` (fog, then shake,
then rain, then noise). Three of its steps have textbook inverses driven by the
diagnosis's parameters, so the network is handed them beside the input instead of having
to learn them from a few hundred thousand weights; they run newest first:

- noise: non-local means (Buades et al., 2005; OpenCV's coloured variant) with its
  strength set from the diagnosed mean σ. The network alone, at its size, denoised
  heavy noise worse than this filter (validation photos, noise at severity 100:
  28.7 dB / SSIM 0.66 against the filter's 30.1 / 0.77), and deconvolution amplifies
  whatever noise is left, so the other two priors start from the denoised image;

- shake: deconvolution with the Gaussian kernel the diagnosis describes (direction and
  effective length along it; across it, what the severity's RMS radius leaves), as a
  constrained least-squares filter (a Laplacian penalty: flat areas and the mean level
  are kept exactly), regularised more when noise is diagnosed, since deconvolution
  amplifies it. On the synthesizer's random-walk kernels, with the true parameters, this
  gains ~+1 dB alone (+1.7 dB with the true kernel, which no diagnosis carries); the
  network does the rest;
- fog: ``J = (I − A·(1 − t(x))) / t(x)``, applied to the deblurred image (fog happened
  before the blur), with a transmission *map* from the dark channel prior (He et al., 2009:
  in a haze-free photo most patches have a nearly black channel, so what lifts it is haze),
  smoothed by a guided filter, and the airlight estimated once per photo from its haziest
  pixels (`haze_airlight`; the lite restorer writes it into the condition, so all tiles of
  a large photo share it). Measured on the validation photos' fog and fog+rain samples,
  as the prior alone: the diagnosis's global mean transmission and airlight gained +0.6 dB
  (the reasoner's airlight is off by 0.05 per channel, its density by ~0.1 of t; a denser
  guess darkens by 5 dB); this map with the photo's airlight +4.7 dB (ω 0.95: +3.1, more
  haze removed, more harm; 0.7: +4.2). A pixel with a dark channel near 0 (no haze) is left
  as it is. On a greyscale photo the airlight's colour is dropped (its grey level is kept),
  so no colour is invented.

Both work on batches of (B, 3, H, W) tensors in [0, 1] and condition vectors
(`rnr.encoding`); a degradation not diagnosed leaves the image as it is.
"""

from __future__ import annotations

import math

import numpy as np

from restorer.classical import line_kernel
from rnr.diagnosis import DEGRADATIONS
from rnr.encoding import param_offset, param_slot
from rnr.filters import sliding_max

FOG_T_FLOOR = 0.2  # the inversion divides by t: keep it from amplifying noise in dense fog
HAZE_KEEP = 0.15  # the dark channel prior's 1 − ω: a little haze is left (depth cue, less harm from a wrong call)
DARK_PATCH = 7  # the dark channel's window radius (15 x 15 px)
GUIDE_RADIUS, GUIDE_EPS = 20, 1e-3  # guided filter smoothing the transmission map along edges
HAZIEST_SHARE = 0.001  # the airlight: the mean colour of the 0.1% of pixels with the brightest dark channel
# Laplacian-penalty weight without noise: swept 0.002-1 on shaken samples with true parameters
# (0.3 best for the Gaussian approximation); the diagnosed kernel only approximates the real one.
DEBLUR_BALANCE = 0.3
# With a kernel estimated from the photo (restorer.kernels), which fits the blur better, the penalty is on the gradient
# (first differences), as in the estimator's own latent step, and lighter.
ESTIMATED_BALANCE = 0.02
DEBLUR_NOISE_BALANCE = 20.0  # extra weight per unit of diagnosed mean sigma (0.05 sigma doubles it)
NLM_STRENGTH = 1.0  # filter strength h per unit of diagnosed sigma in 8-bit levels (0.7-1.1 swept on validation noise)
# OpenCV's windows: 11 px search is 0.12 s at 512², within 0.05 dB of 15 px. 7 px (0.05 s) was tried with the
# shipped networks on two fresh validation sets (benchmarks/val_nlm_search.py; seeds 9191, 9292; 52 + 51 noisy):
# PSNR +0.016 / +0.065 dB but SSIM -0.0084 on both (the networks were trained on 11 px's prior): 11 stays.
NLM_TEMPLATE, NLM_SEARCH = 5, 11
GREY_SPREAD = 2.0 / 255  # a photo whose channels differ by less than this everywhere is greyscale


def is_greyscale(image) -> "torch.Tensor":  # noqa: F821 - torch is imported lazily
    """(B,) bool: every pixel's channels within `GREY_SPREAD` of each other."""
    spread = image.amax(dim=1) - image.amin(dim=1)
    return spread.flatten(1).amax(dim=1) <= GREY_SPREAD


def dark_channel(image) -> "torch.Tensor":  # noqa: F821
    """(B, 1, H, W): each pixel's darkest channel, then the minimum over a window around it."""
    import torch.nn.functional as F

    darkest = image.amin(dim=1, keepdim=True)
    padded = F.pad(-darkest, (DARK_PATCH,) * 4, mode="replicate")
    side = 2 * DARK_PATCH + 1  # separable: a square window's minimum is the minimum of its rows' minima
    return -sliding_max(padded, side)


def haze_airlight(image) -> "torch.Tensor":  # noqa: F821
    """(B, 3): the mean colour of each image's haziest pixels (brightest dark channel)."""
    dark = dark_channel(image).flatten(1)
    count = max(int(dark.shape[1] * HAZIEST_SHARE), 1)
    index = dark.topk(count, dim=1).indices
    pixels = image.flatten(2).gather(2, index[:, None, :].expand(-1, 3, -1))
    return pixels.mean(dim=2)


def box_mean(x, radius: int):
    """The mean over a (2·radius + 1)² window around each pixel, the border replicated.

    From running sums (an integral image, one row pass and one column pass): the cost does not
    grow with the window; a 41-wide pool read each pixel 41 times per pass and made the fog
    prior a third of a 512² restore. Sums in float64, so the differences of large sums stay exact.
    """
    import torch
    import torch.nn.functional as F

    side = 2 * radius + 1
    padded = F.pad(x, (radius,) * 4, mode="replicate").double()
    for dim in (-1, -2):
        sums = torch.cumsum(padded, dim=dim)
        sums = torch.cat([torch.zeros_like(sums.narrow(dim, 0, 1)), sums], dim=dim)
        padded = sums.narrow(dim, side, sums.shape[dim] - side) - sums.narrow(dim, 0, sums.shape[dim] - side)
    return (padded / side**2).to(x.dtype)


def guided_filter(guide, source, radius: int = GUIDE_RADIUS, eps: float = GUIDE_EPS):
    """He et al.'s guided filter: `source` smoothed, its edges following `guide`'s."""
    mean_guide, mean_source = box_mean(guide, radius), box_mean(source, radius)
    covariance = box_mean(guide * source, radius) - mean_guide * mean_source
    variance = box_mean(guide * guide, radius) - mean_guide**2
    slope = covariance / (variance + eps)
    return box_mean(slope, radius) * guide + box_mean(mean_source - slope * mean_guide, radius)


def transmission_map(image, light) -> "torch.Tensor":  # noqa: F821
    """(B, 1, H, W): ``1 − ω · dark channel of I / A``, guided-filtered, floored at `FOG_T_FLOOR`."""
    raw = 1 - (1 - HAZE_KEEP) * dark_channel(image / light.clamp(min=0.05))
    return guided_filter(image.mean(dim=1, keepdim=True), raw).clamp(FOG_T_FLOOR, 1)


def fog_condition(image, condition):
    """(fogged (B,1,1,1) bool, the airlight (B,3,1,1)): where fog is diagnosed with parameters, and its colour.

    On a greyscale photo the airlight's colour is dropped (its grey level kept).
    """
    import torch

    start = param_offset("fog")
    light = condition[:, start : start + 3].view(-1, 3, 1, 1)
    grey_light = light.mean(dim=1, keepdim=True).expand_as(light)
    light = torch.where(is_greyscale(image).view(-1, 1, 1, 1), grey_light, light)
    withheld = condition[:, param_slot("fog", "t_mean")[0]].view(-1, 1, 1, 1) <= 0  # t = 0: parameters withheld ("w/o params")
    return (condition[:, 0].view(-1, 1, 1, 1) > 0.5) & ~withheld, light


def map_haze(image, condition) -> "torch.Tensor":  # noqa: F821
    """(B,): the mean haze, 1 − t, of each image's dark-channel transmission map (0 where no fog is diagnosed)."""
    import torch

    fogged, light = fog_condition(image, condition)
    if not bool(fogged.any()):
        return torch.zeros(image.shape[0])
    return (1 - transmission_map(image, light)).flatten(1).mean(dim=1) * fogged.flatten().float()


def fog_inversion(image, condition, photo_haze=None):
    """``(I − A·(1 − t(x))) / t(x)`` with the condition's airlight where fog is diagnosed, else the image.

    The map's haze is scaled down where it is denser than the diagnosis says (never up):
    mean haze of the map = `photo_haze` (the whole photo's `map_haze`; this image's when
    None), target = 1 − the diagnosed mean transmission. The dark channel reads pale
    scenes and skies as haze; on validation samples (prior alone) this gained +5.64 dB
    with the true diagnosis against +5.39 for the map as it is, +4.54 against +4.32 with
    the lite reasoner's, and a false fog call on a noisy pale sky cost 4.6 dB instead of 13.5.
    """
    import torch

    fogged, light = fog_condition(image, condition)
    if not bool(fogged.any()):
        return image
    t = transmission_map(image, light)
    haze_mean = (1 - t).flatten(1).mean(dim=1) if photo_haze is None else photo_haze.to(t.dtype)  # this image's map_haze
    t_index, t_scale = param_slot("fog", "t_mean")
    target = 1 - condition[:, t_index] / t_scale
    scale = (target.clamp(min=0) / haze_mean.clamp(min=1e-3)).clamp(max=1).view(-1, 1, 1, 1)
    t = 1 - (1 - t) * scale
    dehazed = ((image - light * (1 - t)) / t).clamp(0, 1)
    return torch.where(fogged, dehazed, image)


def with_image_airlight(condition, airlight):
    """The condition with each diagnosed fog's airlight replaced by the photo's own (`haze_airlight`).

    The reasoner's airlight is a guess from a 128 px view; the photo's haziest pixels are
    measured (validation photos: 0.041 off per channel against the reasoner's 0.053).
    """
    start = param_offset("fog")
    condition = condition.clone()
    fogged = (condition[:, 0] > 0.5) & (condition[:, start + 4] > 0)
    condition[fogged, start : start + 3] = airlight[fogged].to(condition.dtype)
    return condition


def at_scale(condition, scale: float):
    """The condition of the photo reduced by `scale` (< 1): noise σ and shake length shrink with it.

    Area averaging divides the noise's σ by about 1/scale and a kernel's length shrinks
    alike; a shake left under 1.5 px is dropped (no kernel to invert at that size).
    """
    reduced = condition.clone()
    sigma_index, _ = param_slot("noise", "sigma_mean")
    length_index, length_scale = param_slot("shake", "length_px")
    reduced[:, sigma_index] *= scale
    reduced[:, length_index] *= scale
    reduced[reduced[:, length_index] / length_scale < 1.5, DEGRADATIONS.index("shake")] = 0.0
    return reduced


def fog_assumed(condition, airlight, least_t_mean: float = 0.5):
    """The condition with fog said present in the photo's `airlight`, its mean transmission at least `least_t_mean`.

    What a false fog call would hand the priors: training measures the haze map under it.
    """
    start, (t_index, _) = param_offset("fog"), param_slot("fog", "t_mean")
    foggy = condition.clone()
    foggy[:, 0] = 1.0
    foggy[:, start : start + 3] = airlight.to(foggy.dtype)
    foggy[:, t_index] = foggy[:, t_index].clamp(min=least_t_mean)
    return foggy


def shake_kernels(condition, size: int) -> "torch.Tensor":  # noqa: F821
    """(B, size, size) line kernels from the diagnosed direction and length (zeros where no shake)."""
    import torch

    start, index = param_offset("shake"), DEGRADATIONS.index("shake")
    length_index, length_scale = param_slot("shake", "length_px")
    kernels = np.zeros((condition.shape[0], size, size), np.float32)
    for row, vector in enumerate(condition.detach().cpu().numpy()):
        length = min(float(vector[length_index]) / length_scale, (size - 1) / 6)
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
    size_index, size_scale = param_slot("shake", "kernel_size")
    r_max = (max(float(vector[size_index]) / size_scale, 3.0) - 1) / 2
    r_rms = max(float(vector[n + index]) * 100 - 1, 0.0) / 99 * r_max
    return float(np.clip(math.sqrt(max(r_rms**2 - length**2, 0.0)), 0.4, length))


def laplacian_power(height: int, width: int):
    """|FFT of the 5-point Laplacian|² on a height x width grid (rfft layout)."""
    import torch

    laplacian = torch.zeros(height, width)
    laplacian[0, 0] = 4.0
    laplacian[0, 1] = laplacian[1, 0] = laplacian[0, -1] = laplacian[-1, 0] = -1.0
    return torch.fft.rfft2(laplacian).abs() ** 2


def gradient_power(height: int, width: int):
    """|FFT of the forward differences|², x plus y, on a height x width grid (rfft layout; `restorer.kernels`' operator)."""
    import torch

    from restorer.kernels import difference_transfers

    dx_hat, dy_hat = difference_transfers((height, width))
    return torch.from_numpy(np.abs(dx_hat) ** 2 + np.abs(dy_hat) ** 2)


def shake_sizes(condition) -> list[int | None]:
    """Each row's diagnosed kernel size (odd px) where the shake prior would deconvolve, else None."""
    from restorer.kernels import kernel_support

    index, (length_index, length_scale), (size_index, size_scale) = (
        DEGRADATIONS.index("shake"), param_slot("shake", "length_px"), param_slot("shake", "kernel_size"))
    return [kernel_support(float(v[size_index]) / size_scale) if v[index] >= 0.5 and v[length_index] / length_scale > 0.3 else None
            for v in condition.detach().cpu().numpy()]


def centre_padded(kernels, size: int):
    """(B, size, size): odd square kernels zero-padded about their centre."""
    import torch.nn.functional as F

    pad = (size - kernels.shape[-1]) // 2
    return F.pad(kernels, (pad,) * 4) if pad > 0 else kernels


def deblur_kernels(condition, size: int, estimated=None):
    """((B, k, k), (B,) bool): the kernel each row is deconvolved with (zeros where no shake is diagnosed), and which are estimated.

    `estimated` (B or 1, k', k'): kernels estimated from the photo (`restorer.kernels`); a row
    whose estimate is all zero (none made) gets the diagnosis's line kernel instead.
    """
    import torch

    if estimated is None:
        return shake_kernels(condition, size), torch.zeros(condition.shape[0], dtype=torch.bool)
    size = max(size, estimated.shape[-1])
    line = shake_kernels(condition, size)
    estimated = centre_padded(estimated.to(line.dtype), size).expand_as(line)
    use = (estimated.flatten(1).sum(dim=1) > 0) & (line.flatten(1).sum(dim=1) > 0)  # estimated, and shake diagnosed
    return torch.where(use[:, None, None], estimated, line), use


def wiener_deblur(image, condition, size: int = 31, estimated=None):
    """Least-squares deconvolution with each sample's kernel (`deblur_kernels`), on a reflected border."""
    import torch
    import torch.nn.functional as F

    kernels, from_photo = deblur_kernels(condition, size, estimated)
    size = kernels.shape[-1]
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
    sigma_index, sigma_scale = param_slot("noise", "sigma_mean")
    sigma = condition[:, sigma_index].clamp(min=0) / sigma_scale
    noisier = (1 + DEBLUR_NOISE_BALANCE * sigma).view(-1, 1, 1, 1)
    penalty = torch.where(from_photo.view(-1, 1, 1, 1), ESTIMATED_BALANCE * gradient_power(height, width),
                          DEBLUR_BALANCE * laplacian_power(height, width)) * noisier
    restored = torch.fft.irfft2(torch.fft.rfft2(padded) * transfer.conj() / (transfer.abs() ** 2 + penalty), s=(height, width))
    restored = restored[..., pad : pad + image.shape[-2], pad : pad + image.shape[-1]].clamp(0, 1)
    return torch.where(shaken.view(-1, 1, 1, 1), restored, image)


def nlm_denoise(image, condition):
    """Each sample with diagnosed noise through non-local means at the diagnosed mean σ; the rest as they are."""
    import cv2
    import torch

    index, scale = param_slot("noise", "sigma_mean")
    present = condition[:, DEGRADATIONS.index("noise")] > 0.5
    if not bool(present.any()):
        return image
    out = image.clone()
    for row in torch.nonzero(present).flatten().tolist():
        strength = float(np.clip(float(condition[row, index]) / scale * 255 * NLM_STRENGTH, 1.0, 60.0))
        pixels = (image[row].detach().permute(1, 2, 0).clamp(0, 1).cpu().numpy() * 255 + 0.5).astype(np.uint8)
        filtered = cv2.fastNlMeansDenoisingColored(pixels, None, strength, strength, NLM_TEMPLATE, NLM_SEARCH)
        out[row] = torch.from_numpy(filtered).permute(2, 0, 1).to(image.dtype) / 255
    return out


def cleaned(image, condition, photo_kernels=None, denoised=None):
    """The image denoised, then deblurred, as the diagnosis says: what the fog inversion works on.

    `denoised`: the image's `nlm_denoise` when it is already made (a tile of the photo denoised whole).
    """
    denoised = nlm_denoise(image, condition) if denoised is None else denoised
    return wiener_deblur(denoised, condition, estimated=photo_kernels)


def physical_priors(image, condition, photo_haze=None, photo_kernels=None, denoised=None):
    """(deblurred, restored): the denoised then Wiener-deblurred image, and it with the fog inverted too.

    `photo_haze` (B,): the whole photo's `map_haze` of its `cleaned` image, so that every
    tile of a large photo scales its haze alike; None for an image restored whole.
    `photo_kernels` (B or 1, k, k): shake kernels estimated from the whole photo (`deblur_kernels`).
    `denoised`: `image` through `nlm_denoise`, when it is made already (`cleaned`).
    """
    deblurred = cleaned(image, condition, photo_kernels, denoised)
    return deblurred, fog_inversion(deblurred, condition, photo_haze)
