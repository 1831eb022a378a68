"""The lite restorer's network: a small NAFNet-style U-Net, conditioned on the diagnosis by FiLM.

NAFNet (Chen et al., 2022) is the field's compact reference for deblurring and
denoising: blocks of layer norm, a pointwise expansion, a depthwise 3x3 convolution and
a "simple gate" (one half of the channels times the other) instead of activations.
Here, per block, the diagnosis vector sets a FiLM scale and shift after the first norm,
so every level knows what to undo. NAFNet's channel attention (a global average) is
left out: it makes a tile's output depend on the whole tile, which shows as seams when a
large photo is restored in tiles.

Work happens at half resolution (pixel-unshuffle in, pixel-shuffle out), most blocks at
1/8, where one 3x3 depthwise layer spans 24 input pixels: the receptive field that
undoing a 31 px shake kernel needs. The input is the degraded image, its deconvolved
version and the full physical inverse (`restorer.priors`), and a noise channel (GRPO's
sampling). The output is the *deconvolved* image plus a residual (the input itself where
no shake is diagnosed), and the residual layer starts at zero, so an untrained network is
the identity, or the deconvolution where shake is diagnosed. Based on the input instead,
the trained network learnt to ignore the deconvolution: on validation photos shake alone
gained +0.03 dB where the deconvolution alone gained +1.5 (docs/lite-training/).
"""

from __future__ import annotations

import torch
from torch import nn

from rnr.encoding import VECTOR_SIZE

INPUT_CHANNELS = 10  # image, deblurred, physical inverse (3 each), noise (1)


class ChannelNorm(nn.Module):
    """Layer norm over the channels of each pixel (NAFNet's LayerNorm2d)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x, scale=None, shift=None):
        """The norm, then its affine; with `scale`/`shift` (B, C) the FiLM after it, folded into that affine.

        Folded, the affine and the FiLM are one multiply-add (the norm was a quarter of the
        network's time on a CPU); torch.var_mean, one pass in principle, was twice as slow.
        """
        weight, bias = self.weight, self.bias
        if scale is not None:
            gain = 1 + scale[:, :, None, None]
            weight, bias = weight * gain, bias * gain + shift[:, :, None, None]
        centred = x - x.mean(dim=1, keepdim=True)
        return torch.addcmul(bias, centred * torch.rsqrt((centred * centred).mean(dim=1, keepdim=True) + 1e-6), weight)


class NAFBlock(nn.Module):
    """Norm, FiLM, 1x1 expand, 3x3 depthwise, gate, 1x1; then a gated pointwise feed-forward."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = ChannelNorm(channels), ChannelNorm(channels)
        self.expand = nn.Conv2d(channels, 2 * channels, 1)
        self.depthwise = nn.Conv2d(2 * channels, 2 * channels, 3, 1, 1, groups=2 * channels)
        self.project = nn.Conv2d(channels, channels, 1)
        self.ffn_expand = nn.Conv2d(channels, 2 * channels, 1)
        self.ffn_project = nn.Conv2d(channels, channels, 1)
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))  # NAFNet's residual scales, from 0
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x, scale, shift):
        a, b = self.depthwise(self.expand(self.norm1(x, scale, shift))).chunk(2, dim=1)
        x = x + self.project(a * b) * self.beta
        a, b = self.ffn_expand(self.norm2(x)).chunk(2, dim=1)
        return x + self.ffn_project(a * b) * self.gamma


class LiteRestorationNet(nn.Module):
    """U-Net at 1/2, 1/4, 1/8 of the input: `blocks` NAF blocks per level, the middle ones at 1/8."""

    def __init__(self, width: int = 32, blocks: tuple[int, int, int, int, int] = (1, 1, 6, 1, 1)) -> None:
        super().__init__()
        widths = [width, 2 * width, 4 * width, 2 * width, width]
        self.block_widths = [w for w, n in zip(widths, blocks) for _ in range(n)]
        self.levels = nn.ModuleList([nn.ModuleList([NAFBlock(w) for _ in range(n)]) for w, n in zip(widths, blocks)])
        self.unshuffle, self.shuffle = nn.PixelUnshuffle(2), nn.PixelShuffle(2)
        self.inlet = nn.Conv2d(4 * INPUT_CHANNELS, width, 3, 1, 1)
        self.down = nn.ModuleList([nn.Conv2d(width, 2 * width, 2, 2), nn.Conv2d(2 * width, 4 * width, 2, 2)])
        self.up = nn.ModuleList([nn.Conv2d(4 * width, 8 * width, 1), nn.Conv2d(2 * width, 4 * width, 1)])
        self.outlet = nn.Conv2d(width, 12, 3, 1, 1)
        self.film = nn.Sequential(nn.Linear(VECTOR_SIZE, 128), nn.GELU(), nn.Linear(128, 2 * sum(self.block_widths)))
        for layer in (self.film[-1], self.outlet):  # no modulation and no residual at the start
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def _level(self, index: int, x, films):
        for block in self.levels[index]:
            x = block(x, *next(films))
        return x

    def forward(self, image, deblurred, prior, noise, condition):
        parts = torch.split(self.film(condition), [w for w in self.block_widths for _ in (0, 1)], dim=1)
        films = iter(zip(parts[0::2], parts[1::2]))
        x = self.inlet(self.unshuffle(torch.cat([image * 2 - 1, deblurred * 2 - 1, prior * 2 - 1, noise], dim=1)))
        skip0 = self._level(0, x, films)
        skip1 = self._level(1, self.down[0](skip0), films)
        x = self._level(2, self.down[1](skip1), films)
        x = self._level(3, nn.functional.pixel_shuffle(self.up[0](x), 2) + skip1, films)
        x = self._level(4, nn.functional.pixel_shuffle(self.up[1](x), 2) + skip0, films)
        return deblurred + self.shuffle(self.outlet(x))
