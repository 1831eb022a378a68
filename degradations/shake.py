"""Camera shake: a Gaussian-weighted random-walk kernel convolved with the image (paper A.2).

The trajectory is a random walk with a smoothly drifting heading; a 1-D Gaussian over
time favours the middle of the exposure; the weighted points are splatted (bilinear)
into a `kernel_size`² grid and normalised to sum 1. Parameters are read off the
kernel itself: the dominant direction (eigenvector of the weighted second-moment
matrix), the effective length ``sqrt(λ_max)``, the energy ``‖k‖₂``. Severity:
``s = r_rms / r_max · 99 + 1``, ``r_rms`` the weighted RMS radius about the centroid,
``r_max = (kernel_size − 1) / 2``.

Directions are in degrees in [0, 180), counter-clockwise from the image's +x axis as
the image is viewed (rows grow downwards, so a kernel along the rising diagonal is 45°).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from degradations.ranges import check_range, uniform

if TYPE_CHECKING:
    from rnr.diagnosis import Finding


@dataclass(frozen=True)
class ShakeConfig:
    kernel_size: tuple[int, int] = (9, 31)  # odd sizes drawn from this range
    steps: tuple[int, int] = (8, 64)
    turn: tuple[float, float] = (0.0, 0.6)  # std of the heading change per step, radians
    fill: tuple[float, float] = (0.3, 1.0)  # walk radius as a share of the kernel radius
    temporal_sigma: tuple[float, float] = (0.2, 0.6)  # of the walk's duration

    def __post_init__(self) -> None:
        check_range("shake.kernel_size", self.kernel_size, 3, 255)
        check_range("shake.steps", self.steps, 2, None)
        check_range("shake.turn", self.turn, 0.0, None)
        check_range("shake.fill", self.fill, 0.0, 1.0)
        check_range("shake.temporal_sigma", self.temporal_sigma, 1e-3, None)


@dataclass(frozen=True, eq=False)
class ShakeParams:
    kernel: np.ndarray  # float32, odd square, sums to 1; everything else is read off it


@dataclass(frozen=True)
class KernelStats:
    direction_deg: float
    length_px: float
    energy: float
    kernel_size: int
    r_rms: float


def sample_params(rng: np.random.Generator, config: ShakeConfig = ShakeConfig()) -> ShakeParams:
    """A random-walk shake kernel: normalised, float32, of odd size."""
    low, high = config.kernel_size
    sizes = np.arange(low | 1, high + 1, 2)  # odd sizes only, so the kernel has a centre pixel
    size = int(rng.choice(sizes)) if len(sizes) else int(low | 1)
    steps = int(rng.integers(config.steps[0], config.steps[1] + 1))
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0.0, uniform(rng, config.turn), steps))
    points = np.cumsum(np.stack([np.cos(heading), np.sin(heading)], axis=1), axis=0)
    sigma = uniform(rng, config.temporal_sigma) * steps
    time = np.arange(steps) - (steps - 1) / 2
    weights = np.exp(-0.5 * (time / sigma) ** 2)
    centroid = (weights[:, None] * points).sum(0) / weights.sum()
    points = points - centroid
    radius = np.sqrt((points**2).sum(1)).max()
    if radius > 0:
        points *= uniform(rng, config.fill) * (size - 1) / 2 / radius
    return ShakeParams(kernel=_splat(points + (size - 1) / 2, weights, size))


def _splat(points: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    kernel = np.zeros((size, size), np.float64)
    x, y = np.clip(points[:, 0], 0, size - 1), np.clip(points[:, 1], 0, size - 1)
    x0, y0 = np.minimum(np.floor(x).astype(int), size - 2), np.minimum(np.floor(y).astype(int), size - 2)
    fx, fy = x - x0, y - y0
    for dy, dx, share in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)), (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(kernel, (y0 + dy, x0 + dx), weights * share)
    return (kernel / kernel.sum()).astype(np.float32)


def kernel_stats(kernel: np.ndarray) -> KernelStats:
    """Direction, effective length, energy and RMS radius of a normalised kernel."""
    kernel = np.asarray(kernel, np.float64)
    size = kernel.shape[0]
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    total = kernel.sum()
    cx, cy = (kernel * cols).sum() / total, (kernel * rows).sum() / total
    dx, dy = cols - cx, -(rows - cy)  # y up, so angles read as the image is viewed
    moments = np.array(
        [[(kernel * dx * dx).sum(), (kernel * dx * dy).sum()], [(kernel * dx * dy).sum(), (kernel * dy * dy).sum()]]
    ) / total
    eigenvalues, eigenvectors = np.linalg.eigh(moments)
    major = eigenvectors[:, 1]
    direction = float(np.degrees(np.arctan2(major[1], major[0])) % 180.0)
    if direction >= 180.0 - 1e-9:  # fold the wrap-around of a horizontal kernel onto 0
        direction = 0.0
    return KernelStats(
        direction_deg=direction,
        length_px=float(np.sqrt(max(eigenvalues[1], 0.0))),
        energy=float(np.sqrt((kernel**2).sum())),
        kernel_size=int(size),
        r_rms=float(np.sqrt(max(np.trace(moments), 0.0))),
    )


def apply(image: np.ndarray, params: ShakeParams) -> np.ndarray:
    """Convolve (not correlate: the kernel is flipped for cv2) with reflected borders."""
    flipped = np.ascontiguousarray(trim(params.kernel)[::-1, ::-1])
    return cv2.filter2D(image, -1, flipped, borderType=cv2.BORDER_REFLECT_101)


def trim(kernel: np.ndarray) -> np.ndarray:
    """Drop all-zero borders symmetrically, keeping the centre pixel in the centre.

    The convolution is unchanged, but OpenCV filters kernels under 130 taps directly
    instead of through a DFT: about 3x faster for the many walks that stay small.
    """
    rows = np.flatnonzero(kernel.any(axis=1))
    cols = np.flatnonzero(kernel.any(axis=0))
    if rows.size == 0:
        return kernel
    centre_row, centre_col = (kernel.shape[0] - 1) // 2, (kernel.shape[1] - 1) // 2
    half_rows = int(max(centre_row - rows[0], rows[-1] - centre_row))
    half_cols = int(max(centre_col - cols[0], cols[-1] - centre_col))
    return kernel[centre_row - half_rows : centre_row + half_rows + 1, centre_col - half_cols : centre_col + half_cols + 1]


def record_values(params: ShakeParams) -> dict[str, Any]:
    """What a sample's record keeps of its shake: the kernel's statistics and the kernel itself."""
    return {**asdict(kernel_stats(params.kernel)), "kernel": params.kernel.tolist()}


def severity(r_rms: float, kernel_size: int) -> float:
    """Shake score in [1, 100] from the kernel's RMS radius.

    >>> severity(0.0, 31), severity(7.5, 31), severity(40.0, 31)
    (1.0, 50.5, 100.0)
    """
    r_max = (kernel_size - 1) / 2
    return float(np.clip(r_rms / r_max * 99.0 + 1.0, 1.0, 100.0))


# A diagnosis's shake finding read back as the physics above: the consumers of a Diagnosis ask
# here, so the parameter names live in rnr.schema and this module only.


def consistent(finding: Finding) -> Finding:
    """The finding with its severity at least what its effective length implies (r_rms >= length).

    >>> from rnr.diagnosis import Finding
    >>> consistent(Finding(True, 10.0, {"length_px": 7.5, "kernel_size": 31})).severity
    50.5
    """
    params = finding.params
    if not finding.present or "length_px" not in params or "kernel_size" not in params:
        return finding
    return replace(finding, severity=max(finding.severity, severity(params["length_px"], params["kernel_size"])))


def line_of(finding: Finding, shortest_px: float = 0.3) -> tuple[float, float] | None:
    """(direction in degrees, effective length in px) of a diagnosed shake longer than `shortest_px`, else None."""
    params = finding.params
    if not finding.present or params.get("length_px", 0) <= shortest_px:
        return None
    return params.get("direction_deg", 0.0), params["length_px"]
