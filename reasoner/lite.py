"""The lite reasoner: a compact CNN diagnoser that runs on a CPU, shipped with the package.

It answers what the Qwen3-VL reasoner answers (presence, severity and parameters of
fog, shake, rain and noise; no scene text) through the fixed vector of
`rnr.encoding`. The network is fully convolutional up to global mean/std/max pooling
of every stage, so any input size works; beside the colours it reads a locally
contrast-normalised copy of the image (edges under fog look like edges elsewhere) and
two sets of hand-made blur cues (`blur_statistics`, `edge_sharpness`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rnr.diagnosis import DEGRADATIONS, Diagnosis, ParseResult
from rnr.encoding import PARAM_COUNT, decode, encode
from rnr.imageio import as_float_image

WEIGHTS = Path(__file__).resolve().parents[1] / "rnr" / "weights" / "lite-reasoner.safetensors"
VIEW = 512  # larger photos are read through their central VIEW x VIEW window, at native resolution


def _network(width: int = 24):
    import torch
    from torch import nn

    class LiteDiagnoser(nn.Module):
        """A thin full-resolution layer, then stages at strides 2-16; mean, std and max of every stage pooled.

        Every scale matters: noise lives at full resolution, rain streaks and blurred edges
        in the middle stages, fog in the deepest ones. The max keeps what is rare but
        telling (one sharp edge proves there is no shake) from being averaged away.
        """

        def __init__(self) -> None:
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
            with torch.no_grad():  # fixed functions of the input: nothing to learn, no graph to keep
                cues = [blur_statistics(x), edge_sharpness(x)]
                normalised = local_contrast(x) / 2
            x = torch.cat([x * 2 - 1, normalised], dim=1)
            stats = []
            for stage in self.stages:
                x = stage(x)
                stats += [x.mean(dim=(2, 3)), x.std(dim=(2, 3)), x.amax(dim=(2, 3))]
            return self.head(torch.cat(stats + cues, dim=1))

    return LiteDiagnoser()


BLUR_SCALES = 3
BLUR_FEATURES = 3 * BLUR_SCALES


def blur_statistics(x):
    """Per scale, the luma gradients' structure tensor as [(Jxx − Jyy)/tr, 2Jxy/tr, log tr / 10]: (B, 9).

    Camera shake smears along one direction, so it shows as gradient energy that is
    anisotropic and missing at fine scales relative to coarse ones. Ratios do not change
    with contrast, which fog lowers; the CNN alone learnt these cues from the scenes it
    saw and confused soft or hazy content with shake on photos it had not seen.
    """
    import torch
    import torch.nn.functional as F

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
    """Max over a size x size window, stride 1, as two 1-D passes (4x cheaper than one 2-D pass at 9)."""
    import torch.nn.functional as F

    return F.max_pool2d(F.max_pool2d(x, (1, size), 1, (0, size // 2)), (size, 1), 1, (size // 2, 0))


def _box_mean(x, size: int):
    import torch.nn.functional as F

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
    import torch
    import torch.nn.functional as F

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


def flip_batch(images, targets, rng: np.random.Generator):
    """Random horizontal/vertical flips, with the labels that flips change: shake direction and rain slant.

    Each flip maps an axial direction θ to 180° − θ (sin 2θ changes sign) and mirrors the
    rain's slant; severities and the other parameters do not change.
    """
    from rnr.encoding import param_offset

    images, targets = images.clone(), targets.clone()
    for axis in (3, 2):  # width, then height
        chosen = np.flatnonzero(rng.random(len(images)) < 0.5)
        if len(chosen):
            images[chosen] = images[chosen].flip(axis)
            targets[chosen, param_offset("shake")] *= -1
            targets[chosen, param_offset("rain") + 1] *= -1
    return images, targets


def split_outputs(outputs):
    """(presence logits [B, 4], severity [B, 4] in [0, 1], params [B, PARAM_COUNT])."""
    import torch

    n = len(DEGRADATIONS)
    return outputs[:, :n], torch.sigmoid(outputs[:, n : 2 * n]), outputs[:, 2 * n :]


def central_view(image: np.ndarray, size: int = VIEW) -> np.ndarray:
    height, width = image.shape[:2]
    top, left = max(0, (height - size) // 2), max(0, (width - size) // 2)
    return image[top : top + size, left : left + size]


@dataclass
class LiteReasoner:
    """The compact diagnoser, behind the same interface as `QwenReasoner`."""

    model: Any
    name: str = "lite"
    thresholds: tuple[float, ...] = (0.5,) * len(DEGRADATIONS)  # presence cut-offs: fog, shake, rain, noise

    @classmethod
    def load(cls, weights: str | Path | None = None) -> "LiteReasoner":
        """The shipped weights (no download), or a file written by `rnr-train --backend lite`.

        Calibrated presence thresholds travel in the file's metadata (`calibrate_file`).
        """
        from safetensors import safe_open
        from safetensors.torch import load_file

        path = Path(weights) if weights else WEIGHTS
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no lite reasoner weights; reinstall rnr, or train them: rnr-train --stage reasoner --backend lite")
        model = _network()
        model.load_state_dict(load_file(str(path)))
        with safe_open(str(path), "pt") as handle:
            metadata = handle.metadata() or {}
        thresholds = tuple(json.loads(metadata["presence_thresholds"])) if "presence_thresholds" in metadata else cls.thresholds
        return cls(model=model.eval(), name=str(path), thresholds=thresholds)

    from_pretrained = load

    def predict(self, images: Sequence[Any]):
        """Raw outputs [N, 26] for images of any sizes (one forward pass each)."""
        import torch

        rows = []
        with torch.no_grad():
            for image in images:
                view = central_view(as_float_image(image))
                tensor = torch.from_numpy(np.ascontiguousarray(view)).permute(2, 0, 1)[None]
                rows.append(self.model(tensor)[0])
        return torch.stack(rows)

    def diagnose(self, images: Sequence[Any], batch_size: int = 8, names=None) -> list[Diagnosis]:
        import torch

        logits, severity, params = split_outputs(self.predict(images))
        presence = torch.sigmoid(logits).numpy()
        return [decode(p, s, q, self.thresholds) for p, s, q in zip(presence, severity.numpy(), params.numpy())]

    def diagnose_detailed(self, images: Sequence[Any], batch_size: int = 8, names=None) -> list[ParseResult]:
        return [ParseResult(d, ()) for d in self.diagnose(images)]  # a vector always decodes

    def severities(self, images: Sequence[Any], batch_size: int = 8):
        """Soft scores [N, 4]: presence probability x severity, 0-100 (the GRPO reward's input).

        Thresholded diagnoses tie whenever every candidate reads as clean, which leaves GRPO
        without signal; the soft score still ranks what is left of each degradation.
        """
        import torch

        logits, severity, _ = split_outputs(self.predict(images))
        return (torch.sigmoid(logits) * severity * 100.0).float()

    def describe_scene(self, images: Sequence[Any], batch_size: int = 8) -> list[str]:
        return [""] * len(images)  # the lite reasoner does not describe scenes


# --- training (rnr-train --stage reasoner --backend lite) -------------------------------
@dataclass(frozen=True)
class LiteReasonerConfig:
    data: str = ""
    output: str = "runs/lite-reasoner"
    max_steps: int = 3000
    batch_size: int = 16
    crop: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    threads: int = 2
    seed: int = 0
    logging_steps: int = 100
    calibration_data: str = ""  # an rnr-synth set not trained on: presence thresholds are tuned on it
    init: str = ""  # start from these weights (fine-tuning) instead of a fresh network
    # F1, the metric the presence targets are set in. F0.5 (favouring precision everywhere) was
    # tried: on held-out draws it cut shake at 0.55 for recall 0.75 (0.90 at F1's 0.3).
    calibration_beta: float = 1.0
    # A false alarm makes the restorer touch a clean photo, a miss leaves a mild degradation, so
    # of the cut-offs within this much of the best F-beta the highest is taken. Held-out draws of
    # the training photos leave F1 flat over wide ranges (rain 0.98-0.99 from 0.2 to 0.85) that
    # unseen photos do not share (rnr/weights/MODEL_CARD.md).
    calibration_tolerance: float = 0.01


def diagnosis_loss(outputs, targets):
    """BCE on presence, L1 on severity, L1 on the parameters of present degradations."""
    import torch
    import torch.nn.functional as F

    from rnr.encoding import PARAM_SLOTS

    n = len(DEGRADATIONS)
    logits, severity, params = split_outputs(outputs)
    presence_t, severity_t, params_t = targets[:, :n], targets[:, n : 2 * n], targets[:, 2 * n :]
    mask = torch.cat([presence_t[:, i : i + 1].expand(-1, len(PARAM_SLOTS[name])) for i, name in enumerate(DEGRADATIONS)], dim=1)
    param_loss = (torch.abs(params - params_t) * mask).sum() / mask.sum().clamp(min=1)
    return F.binary_cross_entropy_with_logits(logits, presence_t) + 2 * F.l1_loss(severity, severity_t) + param_loss


def train(config: LiteReasonerConfig) -> Path:
    import torch

    from rnr.pairs import load_pairs, random_crops, train_on_crops

    torch.manual_seed(config.seed)
    pairs = load_pairs(config.data)
    targets = torch.from_numpy(np.stack([encode(Diagnosis.from_record(r)) for r in pairs.records]))
    start = LiteReasoner.load(config.init) if config.init else None
    model = start.model.train() if start else _network()

    def step_loss(rng):
        index, _, degraded = random_crops(pairs, rng, config.batch_size, config.crop)
        degraded, batch_targets = flip_batch(degraded, targets[index], rng)
        return diagnosis_loss(model(degraded), batch_targets)

    # A fine-tune keeps the cut-offs its starting weights were calibrated to, unless recalibrated.
    kept = {"presence_thresholds": json.dumps(start.thresholds)} if start else None
    output = train_on_crops(model, step_loss, config, "lite-reasoner.safetensors", "reasoner", "loss", kept)
    if config.calibration_data:
        thresholds = calibrate_file(
            output / "lite-reasoner.safetensors", config.calibration_data, config.calibration_beta, config.calibration_tolerance
        )
        print(json.dumps({"presence_thresholds": dict(zip(DEGRADATIONS, thresholds))}), flush=True)
    return output


# --- presence thresholds ----------------------------------------------------------------
THRESHOLD_GRID = tuple(round(0.1 + 0.05 * i, 2) for i in range(18))  # 0.10 ... 0.95


def f_beta(said: np.ndarray, truth: np.ndarray, beta: float = 1.0) -> float:
    """F-beta of boolean calls against the truth; precision (recall) is 1 when nothing is called (present)."""
    hits = float((said & truth).sum())
    precision = hits / said.sum() if said.sum() else 1.0
    recall = hits / truth.sum() if truth.sum() else 1.0
    return (1 + beta**2) * precision * recall / (beta**2 * precision + recall) if precision + recall else 0.0


def best_thresholds(
    probabilities: np.ndarray, present: np.ndarray, beta: float = 1.0, tolerance: float = 0.0
) -> tuple[float, ...]:
    """Per degradation, the highest grid cut-off whose F-beta is within `tolerance` of the best.

    beta < 1 weighs precision higher everywhere; tolerance > 0 only where it costs little F.

    >>> p = np.array([[0.9, 0.6], [0.7, 0.4], [0.55, 0.45], [0.2, 0.1]])
    >>> best_thresholds(p, np.array([[1, 1], [1, 0], [0, 0], [0, 0]], bool))
    (0.7, 0.6)
    >>> best_thresholds(p, np.array([[1, 1], [1, 1], [1, 0], [0, 0]], bool), tolerance=0.15)
    (0.55, 0.6)
    """
    chosen = []
    for column in range(probabilities.shape[1]):
        scores = [f_beta(probabilities[:, column] >= cut, present[:, column], beta) for cut in THRESHOLD_GRID]
        best = max(scores)
        chosen.append(max(cut for cut, f in zip(THRESHOLD_GRID, scores) if f >= best - tolerance - 1e-9))
    return tuple(chosen)


def calibrate_file(weights: str | Path, data: str, beta: float = 1.0, tolerance: float = 0.0) -> tuple[float, ...]:
    """Tune the presence thresholds of a weights file on a held-out set; rewrite the file with them (atomically)."""
    import torch
    from safetensors.torch import load_file

    from rnr.imageio import save_safetensors
    from rnr.pairs import load_pairs

    reasoner = LiteReasoner.load(weights)
    pairs = load_pairs(data)
    logits, _, _ = split_outputs(reasoner.predict(list(pairs.degraded)))  # uint8: predict converts
    present = np.array([[r[name]["present"] for name in DEGRADATIONS] for r in pairs.records], bool)
    thresholds = best_thresholds(torch.sigmoid(logits).numpy(), present, beta, tolerance)
    metadata = {"presence_thresholds": json.dumps(thresholds), "calibrated_on": str(data)}
    metadata |= {"calibration_beta": str(beta), "calibration_tolerance": str(tolerance)}
    save_safetensors(load_file(str(weights)), weights, metadata)
    return thresholds
