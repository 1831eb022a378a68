"""Training and calibration of the lite reasoner (``rnr-train --stage reasoner --backend lite``).

Random crops of an rnr-synth set (flipped, with the labels flips change), BCE on
presence, L1 on severity and on the parameters of what is present; then the presence
cut-offs tuned on a held-out set and written into the weights' metadata.
"""

from __future__ import annotations

import json
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reasoner.accuracy import f_score  # the one F the project reports: calibration tunes what is reported
from reasoner.lite import LiteReasoner, split_outputs
from rnr.diagnosis import DEGRADATIONS, Diagnosis
from rnr.encoding import encode


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
    # Cut-offs calibration may not go below (fog, shake, rain, noise; empty: none), for a false alarm
    # that the calibration sets do not show: stage 1d's calibrated shake cut-off of 0.30 called a
    # softened clean photo shaken (tests/test_lite.py), so reasoner-1d.yaml keeps shake at 0.60 or above.
    minimum_thresholds: tuple[float, ...] = ()
    # Refit only the head (`LiteDiagnoser.pooled` is kept), on each sample's whole central view as inference
    # reads it (`reasoner.lite.VIEW`) and one random flip of it, the features computed once; `init` is required.
    # Pooled statistics (the std and the max above all) depend on how much image they pool: the stages were
    # trained on crops, inference reads 512 px views.
    head_only: bool = False
    # With head_only: (shortest, longest) side of one random crop added per view longer than `longest` on both
    # sides, read whole as a photo that small is (empty: none). Photos under 256 px are read whole at inference,
    # and a head refitted on 256 and 512 px views alone read them less surely (stage 1f's 96 x 64 foggy crop).
    head_small_views: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        from rnr.pairs import check_crop_training

        check_crop_training(self)
        if self.head_small_views and (len(self.head_small_views) != 2 or not 32 <= self.head_small_views[0] <= self.head_small_views[1]):
            raise ValueError(f"head_small_views: give the shortest and the longest side, 32 px or more, not {list(self.head_small_views)}")
        if self.minimum_thresholds and len(self.minimum_thresholds) != len(DEGRADATIONS):
            raise ValueError(f"minimum_thresholds: give {len(DEGRADATIONS)} cut-offs ({', '.join(DEGRADATIONS)}), "
                             f"not {len(self.minimum_thresholds)}")


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

    if config.head_only:
        return train_head(config)

    from reasoner.lite_net import LiteDiagnoser
    from rnr.pairs import flip_pairs, load_pairs, random_crops, seeded, train_on_crops

    pairs = load_pairs(config.data)
    targets = torch.from_numpy(np.stack([encode(Diagnosis.from_record(r)) for r in pairs.records]))
    start = LiteReasoner.load(config.init) if config.init else None
    model = start.model.train() if start else seeded(LiteDiagnoser, config.seed)

    def step_loss(rng):
        index, _, degraded = random_crops(pairs, rng, config.batch_size, config.crop)
        (degraded,), batch_targets = flip_pairs([degraded], targets[index], rng)
        return diagnosis_loss(model(degraded), batch_targets)

    # A fine-tune keeps the cut-offs its starting weights were calibrated to, unless recalibrated.
    kept = {"presence_thresholds": json.dumps(start.thresholds)} if start else None
    output = train_on_crops(model, step_loss, config, "lite-reasoner.safetensors", "reasoner", "loss", kept)
    return calibrated(output, config)


def calibrated(output: Path, config: LiteReasonerConfig) -> Path:
    """The trained weights in `output`, their presence cut-offs tuned on `calibration_data` where one is given."""
    if config.calibration_data:
        thresholds = calibrate_file(
            output / "lite-reasoner.safetensors", config.calibration_data, config.calibration_beta,
            config.calibration_tolerance, config.minimum_thresholds,
        )
        print(json.dumps({"presence_thresholds": dict(zip(DEGRADATIONS, thresholds))}), flush=True)
    return output


def small_view(view, sides: tuple[int, ...], rng: np.random.Generator):
    """A random crop of `view` (1, 3, h, w), each side drawn from `sides` (shortest, longest); None when the
    view is not longer than the longest on both sides (it is a small photo already)."""
    low, high = sides
    height, width = view.shape[-2:]
    if min(height, width) <= high:
        return None
    crop_h, crop_w = (int(side) for side in rng.integers(low, high + 1, size=2))
    top, left = int(rng.integers(0, height - crop_h + 1)), int(rng.integers(0, width - crop_w + 1))
    return view[..., top:top + crop_h, left:left + crop_w]


def view_features(model, pairs, rng: np.random.Generator, small_sides: tuple[int, ...] = ()):
    """(features [V, pooled], targets [V, VECTOR_SIZE]): every sample's whole central view, a random flip of it
    (`rnr.pairs.flip_pairs`, with the labels flips change) and, given `small_sides`, a `small_view` of the flip
    (with the sample's labels, as the crop-trained stages had), through the network's frozen `pooled`."""
    import torch
    from tqdm import tqdm

    from reasoner.lite import view_tensor
    from rnr.pairs import flip_pairs

    features, targets = [], []
    with torch.no_grad():
        for image, record in tqdm(zip(pairs.degraded, pairs.records), total=len(pairs.records), desc="whole views", unit="sample"):
            view = view_tensor(image)
            target = torch.from_numpy(encode(Diagnosis.from_record(record)))[None]
            (flipped,), flipped_target = flip_pairs([view], target, rng)  # one time in four, not flipped at all
            features += [model.pooled(view), model.pooled(flipped)]
            targets += [target, flipped_target]
            small = small_view(flipped, small_sides, rng) if small_sides else None
            if small is not None:
                features.append(model.pooled(small))
                targets.append(flipped_target)
    return torch.cat(features), torch.cat(targets)


def train_head(config: LiteReasonerConfig) -> Path:
    """Stage 1f: the head refitted on whole views' features (`head_only`); the stages as `init` left them."""
    import torch

    from rnr.config import ConfigError
    from rnr.pairs import load_pairs, train_on_crops

    if not config.init:
        raise ConfigError("head_only: give the weights whose head to refit (init=FILE)")
    start = LiteReasoner.load(config.init)
    model = start.model.train()
    torch.set_num_threads(config.threads)
    features, targets = view_features(model, load_pairs(config.data), np.random.default_rng(config.seed),
                                       config.head_small_views)
    print(json.dumps({"views": len(features), "features": features.shape[1]}), flush=True)

    def step_loss(rng):
        index = torch.from_numpy(rng.integers(0, len(features), config.batch_size))
        return diagnosis_loss(model.head(features[index]), targets[index])

    kept = {"presence_thresholds": json.dumps(start.thresholds), "head_only": "true",
            "head_small_views": json.dumps(list(config.head_small_views))}
    output = train_on_crops(model, step_loss, config, "lite-reasoner.safetensors", "reasoner", "loss", kept)
    return calibrated(output, config)


# --- presence thresholds ----------------------------------------------------------------
THRESHOLD_GRID = tuple(round(0.1 + 0.05 * i, 2) for i in range(18))  # 0.10 ... 0.95


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
        scores = [f_score(probabilities[:, column] >= cut, present[:, column], beta) for cut in THRESHOLD_GRID]
        best = max(scores)
        chosen.append(max(cut for cut, f in zip(THRESHOLD_GRID, scores) if f >= best - tolerance - 1e-9))
    return tuple(chosen)


def calibrate_file(
    weights: str | Path, data: str, beta: float = 1.0, tolerance: float = 0.0, minimum: tuple[float, ...] = ()
) -> tuple[float, ...]:
    """Tune the presence thresholds of a weights file on a held-out set, none below `minimum`;
    rewrite the file with them (atomically)."""
    import torch
    from safetensors.torch import load_file

    from rnr.imageio import save_safetensors
    from rnr.pairs import load_pairs

    reasoner = LiteReasoner.load(weights)
    pairs = load_pairs(data)
    logits, _, _ = split_outputs(reasoner.predict(list(pairs.degraded)))  # uint8: predict converts
    present = np.array([[r[name]["present"] for name in DEGRADATIONS] for r in pairs.records], bool)
    calibrated = best_thresholds(torch.sigmoid(logits).numpy(), present, beta, tolerance)
    thresholds = tuple(max(cut, floor) for cut, floor in zip(calibrated, minimum or (0.0,) * len(calibrated)))
    metadata = {"presence_thresholds": json.dumps(thresholds), "calibrated_on": str(data)}
    metadata |= {"calibration_beta": str(beta), "calibration_tolerance": str(tolerance)}
    if minimum:
        metadata |= {"calibrated_thresholds": json.dumps(calibrated), "minimum_thresholds": json.dumps(tuple(minimum))}
    save_safetensors(load_file(str(weights)), weights, metadata)
    return thresholds


def with_cutoff(reasoner: LiteReasoner, kind: str, cutoff: float) -> LiteReasoner:
    """The same reasoner with the presence cut-off of one degradation replaced."""
    if kind not in DEGRADATIONS:
        raise ValueError(f"{kind}: not a degradation; choose one of {', '.join(DEGRADATIONS)}")
    thresholds = list(reasoner.thresholds)
    thresholds[DEGRADATIONS.index(kind)] = float(cutoff)
    return dataclasses.replace(reasoner, thresholds=tuple(thresholds))


def set_cutoff(weights: str | Path, kind: str, cutoff: float, chosen_by: str) -> tuple[float, ...]:
    """Set one presence cut-off in a weights file (atomically), keeping its other metadata, and
    record what chose it ("{kind}_cutoff_chosen_by"): a cut-off chosen on restored validation
    photos (benchmarks/val_cutoff.py) rather than by calibration's F-beta."""
    thresholds = with_cutoff(LiteReasoner.load(weights), kind, cutoff).thresholds
    update_metadata(weights, {"presence_thresholds": json.dumps(list(thresholds)), f"{kind}_cutoff_chosen_by": chosen_by})
    return thresholds


def set_hedge_ramp(weights: str | Path, kind: str, ramp: tuple[float, float], chosen_by: str) -> dict:
    """Set one degradation's hedge ramp (`rnr.hedge`) in a weights file (atomically), keeping the others and
    the rest of its metadata, and record what chose it ("{kind}_hedge_chosen_by")."""
    if kind not in DEGRADATIONS:
        raise ValueError(f"{kind}: not a degradation; choose one of {', '.join(DEGRADATIONS)}")
    if not 0.0 <= ramp[0] < ramp[1] <= 1.0:
        raise ValueError(f"a hedge ramp needs 0 <= low < high <= 1, not {list(ramp)}")
    ramps = dict(LiteReasoner.load(weights).hedge_ramps) | {kind: (float(ramp[0]), float(ramp[1]))}
    update_metadata(weights, {"hedge_ramps": json.dumps(ramps), f"{kind}_hedge_chosen_by": chosen_by})
    return ramps


def update_metadata(weights: str | Path, entries: dict[str, str]) -> None:
    """Rewrite a weights file (atomically) with `entries` set in its metadata, the rest of it kept."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    from rnr.imageio import save_safetensors

    with safe_open(str(weights), "pt") as handle:
        metadata = dict(handle.metadata() or {})
    save_safetensors(load_file(str(weights)), weights, metadata | entries)


def choose_cutoff(rows: list[dict]) -> float:
    """The cut-off to ship, from benchmarks/val_cutoff.py's rows: the best F1 among the cut-offs that call
    no more clean photos (sharp or softened) than the highest one tried, leave none below 40 dB of
    itself and harm no more samples than it; of equal F1 (to 3 places), the higher cut-off.

    >>> rows = [{"cutoff": 0.9, "f1": 0.914, "harmed": 6, "clean_called": 0, "clean_worst": 80.0},
    ...         {"cutoff": 0.7, "f1": 0.930, "harmed": 6, "clean_called": 0, "clean_worst": 80.0},
    ...         {"cutoff": 0.5, "f1": 0.930, "harmed": 6, "clean_called": 0, "clean_worst": 80.0},
    ...         {"cutoff": 0.3, "f1": 0.950, "harmed": 6, "clean_called": 1, "clean_worst": 45.0}]
    >>> choose_cutoff(rows)
    0.7
    """
    highest = max(rows, key=lambda row: row["cutoff"])
    allowed = [row for row in rows if row["harmed"] <= highest["harmed"] and row["clean_called"] <= highest["clean_called"]
               and row["clean_worst"] >= min(40.0, highest["clean_worst"])]
    return max(allowed, key=lambda row: (round(row["f1"], 3), row["cutoff"]))["cutoff"]


def choose_ramp(rows: list[dict]) -> tuple[float, float] | None:
    """The hedge ramp to ship, from benchmarks/val_hedge.py's rows (the first row: the plain cut-off): the best mean
    gain among the ramps that harm no more samples than the cut-off, call no more clean photos below 40 dB, and
    leave the worst clean photo no lower (or at 40 dB or above); of equal gains (to 0.01 dB), the higher low end,
    which touches fewer photos. None: the plain cut-off (ramp None) is best.

    >>> rows = [{"ramp": None, "gain": 6.16, "harmed": 12, "clean_below_40": 1, "clean_worst": 34.6},
    ...         {"ramp": (0.1, 1.0), "gain": 6.23, "harmed": 13, "clean_below_40": 1, "clean_worst": 36.2},
    ...         {"ramp": (0.15, 1.0), "gain": 6.225, "harmed": 12, "clean_below_40": 1, "clean_worst": 36.3},
    ...         {"ramp": (0.2, 1.0), "gain": 6.221, "harmed": 12, "clean_below_40": 1, "clean_worst": 36.4}]
    >>> choose_ramp(rows)
    (0.2, 1.0)
    """
    plain = rows[0]
    allowed = [row for row in rows if row["harmed"] <= plain["harmed"] and row["clean_below_40"] <= plain["clean_below_40"]
               and row["clean_worst"] >= min(40.0, plain["clean_worst"])]
    return max(allowed, key=lambda row: (round(row["gain"], 2), row["ramp"][0] if row["ramp"] else 1.0))["ramp"]
