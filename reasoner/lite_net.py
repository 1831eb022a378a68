"""The lite reasoner's network: a compact CNN diagnoser with hand-made blur cues.

Fully convolutional up to global mean/std/max pooling of every stage, so any input size
works; beside the colours it reads a locally contrast-normalised copy of the image
(edges under fog look like edges elsewhere) and two sets of fixed blur cues
(`blur_statistics`, `edge_sharpness`). Its output is the 26-value `rnr.encoding` vector
(presence logits, severities, parameters).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnr.diagnosis import DEGRADATIONS
from rnr.encoding import PARAM_COUNT
from rnr.filters import sliding_max


class LiteDiagnoser(nn.Module):
    """A thin full-resolution layer, then stages at strides 2-16; mean, std and max of every stage pooled.

    Every scale matters: noise lives at full resolution, rain streaks and blurred edges
    in the middle stages, fog in the deepest ones. The max keeps what is rare but
    telling (one sharp edge proves there is no shake) from being averaged away.
    """

    def __init__(self, width: int = 24) -> None:
        super().__init__()
        widths = [16, width, width * 2, width * 3, width * 4]
        self.stages = nn.ModuleList([nn.Sequential(nn.Conv2d(6, widths[0], 3, 1, 1), nn.GELU())])
        for channels, out in zip(widths, widths[1:]):
            self.stages.append(
                nn.Sequential(nn.Conv2d(channels, out, 3, 2, 1), nn.GELU(), nn.Conv2d(out, out, 3, 1, 1), nn.GELU())
            )
        pooled = 3 * sum(widths) + BLUR_FEATURES + EDGE_FEATURES
        self.head = nn.Sequential(nn.Linear(pooled, 192), nn.GELU(), nn.Linear(192, 2 * len(DEGRADATIONS) + PARAM_COUNT))

    def forward(self, x):
        return self.head(self.pooled(x))

    def pooled(self, x):
        """(B, pooled): what the head reads, the stages' pooled statistics and the fixed cues.

        Apart so that the head can be refitted on features computed once (`reasoner.lite_train.train_head`).
        """
        with torch.no_grad():  # fixed functions of the input: nothing to learn, no graph to keep
            cues = [blur_statistics(x), edge_sharpness(x)]
            normalised = local_contrast(x) / 2
        x = torch.cat([x * 2 - 1, normalised], dim=1)
        stats = []
        for stage in self.stages:
            x = stage(x)
            stats += [x.mean(dim=(2, 3)), x.std(dim=(2, 3)), x.amax(dim=(2, 3))]
        return torch.cat(stats + cues, dim=1)


BLUR_SCALES = 3
BLUR_FEATURES = 3 * BLUR_SCALES


def blur_statistics(x):
    """Per scale, the luma gradients' structure tensor as [(Jxx − Jyy)/tr, 2Jxy/tr, log tr / 10]: (B, 9).

    Camera shake smears along one direction, so it shows as gradient energy that is
    anisotropic and missing at fine scales relative to coarse ones. Ratios do not change
    with contrast, which fog lowers; the CNN alone learnt these cues from the scenes it
    saw and confused soft or hazy content with shake on photos it had not seen.
    """
    grey = x.mean(dim=1, keepdim=True)
    features = []
    for _ in range(BLUR_SCALES):
        gx = grey[..., 1:-1, 2:] - grey[..., 1:-1, :-2]
        gy = grey[..., 2:, 1:-1] - grey[..., :-2, 1:-1]
        jxx, jyy, jxy = (gx * gx).mean(dim=(1, 2, 3)), (gy * gy).mean(dim=(1, 2, 3)), (gx * gy).mean(dim=(1, 2, 3))
        trace = jxx + jyy + 1e-8
        features += [(jxx - jyy) / trace, 2 * jxy / trace, torch.log(trace) / 10]
        grey = F.avg_pool2d(grey, 2, ceil_mode=True)
    return torch.stack(features, dim=1)


def _box_max(x, size: int):
    """Max over a size x size window centred on each pixel (odd size), outside the map counting as −inf."""
    return sliding_max(F.pad(x, (size // 2,) * 4, value=float("-inf")), size)


def _box_mean(x, size: int):
    x = F.avg_pool2d(x, (1, size), 1, (0, size // 2), count_include_pad=False)
    return F.avg_pool2d(x, (size, 1), 1, (size // 2, 0), count_include_pad=False)


def local_contrast(x, size: int = 15):
    """The image minus its local luma mean, over the local luma std (+0.03), clamped to ±4.

    Fog scales contrast by a transmission that varies with depth; divided by the local
    spread, a far edge in fog and a near clear one look alike, which is what blur and
    rain detection need.
    """
    grey = x.mean(dim=1, keepdim=True)
    mean = _box_mean(grey, size)
    spread = (_box_mean(grey * grey, size) - mean * mean).clamp(min=0).sqrt()
    return ((x - mean) / (spread + 0.03)).clamp(-4, 4)


EDGE_DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))  # 0°, 90°, 45°, 135° steps (dy, dx)
EDGE_FEATURES = 2 * len(EDGE_DIRECTIONS)


def edge_sharpness(x, size: int = 9):
    """Per direction and at two scales, how steep edges are for their height: (B, 8).

    In each size x size window, the steepest luma step along a direction over the
    window's range (max − min): a sharp edge scores near 1/2, one smeared over L pixels
    about 1/L. Averaged with weights range², so strong edges speak and flat or noisy
    patches do not. The ratio does not change with contrast (fog); shake lowers it along
    its direction only.
    """
    grey = x.mean(dim=1, keepdim=True)
    features = []
    for _ in range(2):
        height, width = grey.shape[-2:]
        inner = grey[..., 1:-1, 1:-1]
        spread = (_box_max(inner, size) + _box_max(-inner, size))[..., size:-size, size:-size]
        weight = spread * spread
        for dy, dx in EDGE_DIRECTIONS:
            ahead = grey[..., 1 + dy : height - 1 + dy, 1 + dx : width - 1 + dx]
            behind = grey[..., 1 - dy : height - 1 - dy, 1 - dx : width - 1 - dx]
            steepest = _box_max((ahead - behind).abs() / 2, size)[..., size:-size, size:-size]
            ratio = steepest / (spread + 1e-3)
            features.append((ratio * weight).sum(dim=(1, 2, 3)) / (weight.sum(dim=(1, 2, 3)) + 1e-8))
        grey = F.avg_pool2d(grey, 2)
    return torch.stack(features, dim=1)
