"""The lite reasoner: a compact CNN diagnoser that runs on a CPU, shipped with the package.

It answers what the Qwen3-VL reasoner answers (presence, severity and parameters of
fog, shake, rain and noise; no scene text) through the fixed vector of
`rnr.encoding`; the network is `reasoner.lite_net.LiteDiagnoser`, its training and
presence-threshold calibration are in `reasoner.lite_train`. Severity and parameters
come from one prediction (`rnr.encoding.decode` derives one from the other), so a
diagnosis never says "fog 3/100" beside "keeps 35% of its light".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rnr.diagnosis import DEGRADATIONS, Diagnosis, ParseResult
from rnr.encoding import decode
from rnr.hedge import Hedge, blending_weight, ramp_weight
from rnr.imageio import as_float_image

WEIGHTS = Path(__file__).resolve().parents[1] / "rnr" / "weights" / "lite-reasoner.safetensors"
ABOVE_ANY_PROBABILITY = 2.0  # a presence cut-off that nothing passes: the degradation forced absent
VIEW = 512  # larger photos are read through their central VIEW x VIEW window, at native resolution


def split_outputs(outputs):
    """(presence logits [B, 4], severity [B, 4] in [0, 1], params [B, PARAM_COUNT])."""
    import torch

    n = len(DEGRADATIONS)
    return outputs[:, :n], torch.sigmoid(outputs[:, n : 2 * n]), outputs[:, 2 * n :]


MIN_SIDE = 32  # the deepest stage is at stride 16: smaller images are padded (edge pixels repeated) to this


def central_view(image: np.ndarray, size: int = VIEW) -> np.ndarray:
    """The central size x size window of a photo; a photo smaller than `MIN_SIDE` padded up to it."""
    height, width = image.shape[:2]
    top, left = max(0, (height - size) // 2), max(0, (width - size) // 2)
    view = image[top : top + size, left : left + size]
    grow_h, grow_w = max(0, MIN_SIDE - view.shape[0]), max(0, MIN_SIDE - view.shape[1])
    if grow_h or grow_w:
        view = np.pad(view, ((grow_h // 2, grow_h - grow_h // 2), (grow_w // 2, grow_w - grow_w // 2), (0, 0)), mode="edge")
    return view


def view_tensor(image) -> "torch.Tensor":  # noqa: F821 - torch is imported lazily
    """(1, 3, h, w): what the network reads of a photo (any `as_float_image` input), its `central_view`.

    One place for it: inference (`LiteReasoner.predict`) and the head refit on whole views
    (`reasoner.lite_train.view_features`) must read photos the same way.
    """
    import torch

    return torch.from_numpy(np.ascontiguousarray(central_view(as_float_image(image)))).permute(2, 0, 1)[None]


def self_consistent(diagnosis: Diagnosis) -> Diagnosis:
    """One prediction per fact: fog's mean transmission from its severity, noise's severity from its mean sigma.

    The network predicts both sides of each formula (degradations.fog / .noise); left
    alone they can disagree off-distribution. Fog's severity is the better-trained side
    (its loss weighs double); noise's severity saturates at sigma 0.05, its sigma does
    not. Shake's severity is at least what its effective length implies (r_rms >= length).
    """
    from dataclasses import replace

    from degradations import fog, noise, shake

    findings = {"fog": fog.consistent(diagnosis.fog), "noise": noise.consistent(diagnosis.noise),
                "shake": shake.consistent(diagnosis.shake)}
    return replace(diagnosis, **findings)


@dataclass
class LiteReasoner:
    """The compact diagnoser, behind the same interface as `QwenReasoner`."""

    model: Any
    name: str = "lite"
    thresholds: tuple[float, ...] = (0.5,) * len(DEGRADATIONS)  # presence cut-offs: fog, shake, rain, noise
    # Per degradation, the presence probabilities over which its correction goes from none to all (`rnr.hedge`);
    # chosen on restored validation photos (benchmarks/val_hedge.py) and kept in the weights' metadata.
    hedge_ramps: dict[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def load(cls, weights: str | Path | None = None) -> "LiteReasoner":
        """The shipped weights (no download), or a file written by `rnr-train --backend lite`.

        Calibrated presence thresholds travel in the file's metadata (`calibrate_file`).
        """
        import torch
        from safetensors import safe_open
        from safetensors.torch import load_file

        path = Path(weights) if weights else WEIGHTS
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no lite reasoner weights; reinstall rnr, or train them: rnr-train --stage reasoner --backend lite")
        from reasoner.lite_net import LiteDiagnoser

        with torch.device("meta"):  # no random initial weights drawn (nor global RNG used): the file's are assigned
            model = LiteDiagnoser()
        model.load_state_dict(load_file(str(path)), assign=True)
        with safe_open(str(path), "pt") as handle:
            metadata = handle.metadata() or {}
        thresholds = tuple(json.loads(metadata["presence_thresholds"])) if "presence_thresholds" in metadata else cls.thresholds
        ramps = {kind: tuple(ramp) for kind, ramp in json.loads(metadata.get("hedge_ramps", "{}")).items()}
        return cls(model=model.eval(), name=str(path), thresholds=thresholds, hedge_ramps=ramps)

    from_pretrained = load

    def predict(self, images: Sequence[Any]):
        """Raw outputs [N, 26] for images of any sizes (one forward pass each)."""
        import torch

        rows = []
        with torch.no_grad():
            for image in images:
                rows.append(self.model(view_tensor(image))[0])
        return torch.stack(rows)

    def readings(self, images: Sequence[Any]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per image, (presence probabilities, severities / 100, normalised parameters): what `decode` reads."""
        import torch

        logits, severity, params = split_outputs(self.predict(images))
        return list(zip(torch.sigmoid(logits).numpy(), severity.numpy(), params.numpy()))

    def diagnose(self, images: Sequence[Any], batch_size: int = 8, names=None) -> list[Diagnosis]:
        return [self_consistent(decode(p, s, q, self.thresholds)) for p, s, q in self.readings(images)]

    def diagnose_hedged(self, images: Sequence[Any], batch_size: int = 8, names=None) -> list[tuple[Diagnosis, Hedge | None]]:
        """Each image's diagnosis, and the `Hedge` its restoration should blend (None: restore as diagnosed)."""
        return [(self_consistent(decode(*reading, self.thresholds)), self.hedge(*reading)) for reading in self.readings(images)]

    def hedge(self, presence: np.ndarray, severity: np.ndarray, params: np.ndarray) -> Hedge | None:
        """Of the degradations with a ramp whose weight blends, the one nearest an even blend; None if none.

        One at a time: a photo in doubt about two things would need four restorations.
        """
        weights = {kind: ramp_weight(float(presence[DEGRADATIONS.index(kind)]), ramp) for kind, ramp in self.hedge_ramps.items()}
        blending = [kind for kind, weight in weights.items() if blending_weight(weight)]
        if not blending:
            return None  # no decoding both ways for the photos (most) that need one restoration
        kind = min(blending, key=lambda name: abs(weights[name] - 0.5))
        probability = float(presence[DEGRADATIONS.index(kind)])
        return Hedge(kind, probability, weights[kind], *self.both_ways(presence, severity, params, kind))

    def both_ways(self, presence: np.ndarray, severity: np.ndarray, params: np.ndarray, kind: str) -> tuple[Diagnosis, Diagnosis]:
        """(the diagnosis with `kind` present as predicted, the same without it): the others as the cut-offs say."""
        index = DEGRADATIONS.index(kind)
        forced = [list(self.thresholds), list(self.thresholds)]
        forced[0][index], forced[1][index] = 0.0, ABOVE_ANY_PROBABILITY
        with_it, without_it = (self_consistent(decode(presence, severity, params, cuts)) for cuts in forced)
        return with_it, without_it

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
