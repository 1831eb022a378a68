"""Clean/degraded pairs of an rnr-synth dataset in memory, and random crops of them (lite training)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Pairs:
    clean: list[np.ndarray]  # uint8 (H, W, 3)
    degraded: list[np.ndarray]
    records: list[dict]


def load_pairs(data: str | list[str], limit: int | None = None) -> Pairs:
    """Decode every pair once (PNG bytes straight through cv2); several sets (a list, or joined by commas) are concatenated."""
    folders = data if isinstance(data, (list, tuple)) else [part for part in str(data).split(",") if part.strip()]
    if len(folders) != 1:
        from rnr.config import ConfigError

        if not folders:
            raise ConfigError("--data: no training set given; make one with rnr-synth")
        parts = [load_pairs(folder.strip(), limit) for folder in folders]
        return Pairs(*([item for part in parts for item in getattr(part, key)] for key in ("clean", "degraded", "records")))
    data = folders[0].strip()
    from datasets import Image, load_from_disk

    from rnr.config import ConfigError

    try:
        dataset = load_from_disk(data)
    except (FileNotFoundError, ValueError) as error:
        raise ConfigError(f"--data {data}: not a datasets folder ({error}); make one with rnr-synth") from None
    if limit is not None:
        dataset = dataset.select(range(min(limit, len(dataset))))
    dataset = dataset.select_columns(["clean", "degraded", "record"])
    dataset = dataset.cast_column("clean", Image(decode=False)).cast_column("degraded", Image(decode=False))

    def decode(cell) -> np.ndarray:
        return cv2.cvtColor(cv2.imdecode(np.frombuffer(cell["bytes"], np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    clean, degraded, records = [], [], []
    for row in dataset:
        clean.append(decode(row["clean"]))
        degraded.append(decode(row["degraded"]))
        records.append(json.loads(row["record"]))
    return Pairs(clean, degraded, records)


def random_crops(pairs: Pairs, rng: np.random.Generator, count: int, size: int):
    """(indices, clean, degraded): float32 tensors (count, 3, size, size) in [0, 1], same windows."""
    import torch

    indices = rng.integers(0, len(pairs.clean), count)
    clean, degraded = [], []
    for i in indices:
        height, width = pairs.clean[i].shape[:2]
        side = min(size, height, width)
        y, x = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
        for source, sink in ((pairs.clean[i], clean), (pairs.degraded[i], degraded)):
            sink.append(source[y : y + side, x : x + side])
    to_tensor = lambda crops: torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 255  # noqa: E731
    return torch.from_numpy(indices), to_tensor(clean), to_tensor(degraded)


def flip_pairs(images: list, vectors, rng: np.random.Generator):
    """Random horizontal/vertical flips of aligned (B, 3, H, W) batches, and of the diagnosis vectors they change.

    Each flip maps an axial shake direction θ to 180° − θ (sin 2θ changes sign) and
    mirrors the rain's slant; severities and the other parameters do not change.
    """
    from rnr.encoding import param_offset

    images, vectors = [image.clone() for image in images], vectors.clone()
    for axis in (3, 2):  # width, then height
        chosen = np.flatnonzero(rng.random(len(vectors)) < 0.5)
        if len(chosen):
            for image in images:
                image[chosen] = image[chosen].flip(axis)
            vectors[chosen, param_offset("shake")] *= -1
            vectors[chosen, param_offset("rain") + 1] *= -1
    return images, vectors


def seeded(factory, seed: int, *args, **kwargs):
    """`factory(*args, **kwargs)` with torch's default generator seeded inside, its outside state untouched.

    Layers draw their initial weights from torch's global generator; forking it keeps a
    caller's random state as it was (library code never reseeds it for others).
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory(*args, **kwargs)


def check_crop_training(config, shares: tuple[str, ...] = ()) -> None:
    """The loop's counts (steps, batch, crop, logging interval, threads) at least 1; each named share in [0, 1]."""
    from rnr.config import ConfigError

    for name in ("max_steps", "batch_size", "crop", "logging_steps", "threads"):
        if getattr(config, name) < 1:
            raise ConfigError(f"{name} must be at least 1, got {getattr(config, name)}")
    for name in shares:
        if not 0 <= getattr(config, name) <= 1:
            raise ConfigError(f"{name} must be in [0, 1], got {getattr(config, name)}")


def train_on_crops(model, step_loss, config, weights_name: str, stage: str, log_name: str, metadata: dict | None = None):
    """The lite stages' loop: AdamW + one-cycle over random crops, JSON log lines, safetensors out.

    `step_loss(pairs, rng)` returns one step's loss; `config` carries data, output,
    max_steps, learning_rate, weight_decay, threads, seed and logging_steps; `metadata` goes
    into the safetensors file.
    """
    import json
    import time
    from pathlib import Path

    import torch

    from rnr.imageio import atomic_write_text, save_safetensors

    torch.set_num_threads(config.threads)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    if config.max_steps >= 50:
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.learning_rate, total_steps=config.max_steps, pct_start=0.05)
    else:  # too few steps for one-cycle's warm-up and decay phases (a smoke test): a constant rate
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    rng = np.random.default_rng(config.seed)
    output = Path(config.output)
    output.mkdir(parents=True, exist_ok=True)
    log, started = [], time.perf_counter()
    for step in range(1, config.max_steps + 1):
        loss = step_loss(rng)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        log.append(loss.item())
        if step % config.logging_steps == 0:
            recent = float(np.mean(log[-config.logging_steps :]))
            print(json.dumps({"step": step, log_name: recent, "seconds": round(time.perf_counter() - started, 1)}), flush=True)
    save_safetensors(model.state_dict(), output / weights_name, metadata)
    summary = {"stage": stage, "steps": config.max_steps, "seconds": time.perf_counter() - started, log_name: log[-1]}
    atomic_write_text(output / "rnr-lite.json", json.dumps(summary))
    return output
