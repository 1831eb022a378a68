"""Image quality metrics: the paper's table metrics through pyiqa, and two quick numpy helpers.

`MetricSuite` builds pyiqa metrics strictly offline: a metric whose weights are not
already on disk is never downloaded (evaluation machines often have no network, and a
half-fetched checkpoint is worse than none); it is reported as skipped, with the file it
needs and where to put it. PSNR (RGB) and SSIM (luma, as restoration papers report it)
need no weights and always run.

`psnr` and `ssim` below are the numpy helpers the training loops and benchmarks use on
float (H, W, 3) images in [0, 1]; `rnr-eval` goes through pyiqa.

One PSNR convention everywhere: pyiqa's, ``10·log10(1 / (MSE + 1e-8))`` on [0, 1] RGB, so
identical images score `PSNR_CAP` = 80 dB rather than infinity (a mean over a set stays
finite, and a GRPO reward stays a number). `psnr` below computes exactly that.
"""

from __future__ import annotations

import contextlib
import io
import socket
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

# Table 2 of the paper: full-reference PSNR, SSIM, LPIPS; no-reference metrics after CoTIR.
PAPER_METRICS = ("psnr", "ssim", "lpips", "clipiqa+", "qalign", "liqe", "musiq", "niqe")
ALWAYS = ("psnr", "ssim")
LABELS = {
    "psnr": "PSNR", "ssim": "SSIM", "lpips": "LPIPS", "clipiqa+": "CLIP-IQA+", "qalign": "Q-Align",
    "liqe": "LIQE", "musiq": "MUSIQ", "niqe": "NIQE",
}


PSNR_EPS = 1e-8  # pyiqa's: added to the MSE, it caps PSNR at 80 dB
PSNR_CAP = 80.0


def psnr(image: np.ndarray, reference: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB, as pyiqa computes it (identical images: `PSNR_CAP`).

    >>> a = np.zeros((4, 4, 3), np.float32); b = a + 0.1
    >>> round(psnr(b, a), 2), psnr(a, a)
    (20.0, 80.0)
    """
    mse = float(np.mean((np.asarray(image, np.float64) - np.asarray(reference, np.float64)) ** 2))
    return float(10 * np.log10(1.0 / (mse + PSNR_EPS)))


def ssim(image: np.ndarray, reference: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(image, reference, channel_axis=2, data_range=1.0, gaussian_weights=True, sigma=1.5))


class WeightsNotLocal(RuntimeError):
    """A metric asked for a file it would have to download."""


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """No downloads and no sockets while metrics are built; pyiqa's chatter is swallowed.

    pyiqa fetches weights through torch.hub's downloader, its own copy of it, or urllib
    (CLIP); Q-Align goes through the Hugging Face hub. The first two are turned into a
    `WeightsNotLocal` naming the file, the rest fail at the socket, at once, instead of
    after a network timeout.
    """
    import torch.hub

    def refuse_download(url: str, destination: str, *args: Any, **kwargs: Any) -> None:
        raise WeightsNotLocal(f"weights not on this machine: put {url.rsplit('/', 1)[-1]} at {destination} (from {url})")

    def refuse_socket(*args: Any, **kwargs: Any) -> None:
        raise OSError("no network during metric set-up: the weights must already be on disk")

    patches = [(torch.hub, "download_url_to_file", refuse_download), (socket, "getaddrinfo", refuse_socket),
               (socket.socket, "connect", refuse_socket)]
    with contextlib.suppress(ImportError):
        import pyiqa.utils.download_util as pyiqa_download

        patches.append((pyiqa_download, "download_url_to_file", refuse_download))
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    try:
        for owner, name, replacement in patches:
            setattr(owner, name, replacement)
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _reason(error: BaseException) -> str:
    """The most useful line of a failed metric set-up."""
    chain = [error]
    while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
    for link in chain:
        if isinstance(link, WeightsNotLocal):
            return str(link)
    if any(isinstance(link, OSError) for link in chain):
        return f"weights not on this machine and no download allowed ({type(error).__name__}: {str(error).splitlines()[0][:200]})"
    return f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else 'failed to build'}"


@dataclass
class MetricSuite:
    """pyiqa metrics by name; `skipped` maps each one that could not be built to why."""

    metrics: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, names: Sequence[str] = PAPER_METRICS, device: str = "cpu") -> "MetricSuite":
        import pyiqa

        suite = cls()
        for name in dict.fromkeys((*ALWAYS, *names)):
            if name not in pyiqa.list_models():
                suite.skipped[name] = f"pyiqa {pyiqa.__version__} has no metric named {name!r}"
                continue
            try:
                with offline():
                    suite.metrics[name] = pyiqa.create_metric(name, device=device)
            except Exception as error:  # noqa: BLE001 - any failure to build a metric is reported, not fatal
                suite.skipped[name] = _reason(error)
        return suite

    @property
    def names(self) -> list[str]:
        return list(self.metrics)

    def lower_better(self, name: str) -> bool:
        return bool(self.metrics[name].lower_better)

    def score(self, image: np.ndarray, reference: np.ndarray | None) -> dict[str, float]:
        """Every built metric of one float (H, W, 3) image in [0, 1]; full-reference ones need `reference`."""
        import torch

        def tensor(array: np.ndarray):
            return torch.from_numpy(np.ascontiguousarray(np.clip(array, 0, 1), np.float32)).permute(2, 0, 1)[None]

        scores = {}
        target = tensor(image)
        ref = None if reference is None else tensor(reference)
        for name, metric in self.metrics.items():
            if metric.metric_mode == "FR":
                if ref is None:
                    continue
                value = metric(target, ref)
            else:
                value = metric(target)
            scores[name] = float(torch.as_tensor(value).float().mean())
        return scores
