"""Full-reference image metrics on float (H, W, 3) images in [0, 1].

PSNR is computed directly; SSIM comes from scikit-image (Gaussian window, as in Wang et
al. 2004). The paper's table metrics through pyiqa arrive with `rnr-eval` (issue #7).
"""

from __future__ import annotations

import numpy as np


def psnr(image: np.ndarray, reference: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB (inf for identical images).

    >>> a = np.zeros((4, 4, 3), np.float32); b = a + 0.1
    >>> round(psnr(b, a), 2)
    20.0
    """
    mse = float(np.mean((np.asarray(image, np.float64) - np.asarray(reference, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))


def ssim(image: np.ndarray, reference: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(image, reference, channel_axis=2, data_range=1.0, gaussian_weights=True, sigma=1.5))
