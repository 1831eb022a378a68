"""Check a training set before any model loads: every stage and backend refuses the same bad sets in one line.

An `rnr-synth` set that is missing, in folder format, empty (no rows, or no data files:
`datasets` then fails with an IndexError from its own internals), or without the columns
a stage reads would otherwise surface minutes later, after model loading, as a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from rnr.config import ConfigError

PAIR_COLUMNS = ("clean", "degraded", "record")  # lite stages and the Qwen restorer
GRPO_COLUMNS = ("clean", "degraded")


def split_sets(data: str) -> list[str]:
    """The sets named by a --data value: one folder, or several joined by commas (lite stages)."""
    return [part.strip() for part in str(data).split(",") if part.strip()]


def check_training_set(data: str, columns: Sequence[str], flag: str = "--data") -> int:
    """The number of rows of the `datasets` folder `data`; ConfigError (one line, with the fix) if it cannot be trained on."""
    root = Path(data)
    if not root.is_dir():
        raise ConfigError(f"{flag} {data}: no such folder; make a training set with rnr-synth --output {data}")
    if (root / "records.jsonl").is_file() and not (root / "state.json").is_file():
        raise ConfigError(f"{flag} {data}: an rnr-synth set in folder format; training reads --format hf (the default)")
    try:
        state = json.loads((root / "state.json").read_text())
    except (OSError, ValueError):
        raise ConfigError(f"{flag} {data}: not a datasets folder (no readable state.json); make one with rnr-synth") from None
    if not state.get("_data_files"):
        raise ConfigError(f"{flag} {data}: holds no samples (no data files); make it again with rnr-synth --num N")
    from datasets import load_from_disk

    try:
        dataset = load_from_disk(str(root))
    except (FileNotFoundError, ValueError, IndexError, OSError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(f"{flag} {data}: not a readable datasets folder ({reason}); make it again with rnr-synth") from None
    missing = [column for column in columns if column not in dataset.column_names]
    if missing:
        raise ConfigError(f"{flag} {data}: lacks the column(s) {', '.join(missing)}; make it with rnr-synth --format hf")
    if len(dataset) == 0:
        raise ConfigError(f"{flag} {data}: holds no samples (0 rows); make it again with rnr-synth --num N")
    return len(dataset)


def check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be at least 1 (or left out: the whole set), got {limit}")
