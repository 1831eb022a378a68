"""rnr-synth's manifest (``rnr-synth.json``): the job, whether it is complete, and the inputs skipped and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from rnr import __version__
from rnr.imageio import atomic_write_text
from rnr.synth_job import MANIFEST, Job, SynthError


def read_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest in `out`, or None when there is none; a damaged one is refused in one line."""
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        raise SynthError(f"{path}: damaged manifest; remove {out} and run again") from None


def write_manifest(job: Job, complete: bool, skipped: Sequence[str], extra: dict[str, Any] | None = None) -> None:
    """The manifest of `job`'s output, written atomically."""
    manifest = {
        "tool": "rnr-synth",
        "version": __version__,
        "job": job.identity(),
        "range": [job.start, job.stop],
        "complete": complete,
        "skipped": list(skipped),
        **(extra or {}),
    }
    save_manifest(Path(job.output), manifest)


def save_manifest(out: Path, manifest: dict[str, Any]) -> None:
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
