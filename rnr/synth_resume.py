"""rnr-synth's resume: is the output fresh, resumable or complete, and which chunks are already done.

A run killed at any point (even by SIGKILL) leaves finished chunks in .parts/ and at most
temporaries beside them; the same command finds the chunks, removes the temporaries and
makes only what is missing, so the result is the same bytes as an uninterrupted run.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from rnr.synth_job import PARTS, Job, SynthError
from rnr.synth_manifest import read_manifest
from rnr.synth_writing import chunk_files


def prepare_output(job: Job) -> str:
    """'fresh', 'resume' or 'complete'; refuses a folder that holds something else."""
    out = Path(job.output)
    if out.exists() and not out.is_dir():
        raise SynthError(f"--output {out} is a file; give a folder")
    manifest = read_manifest(out) if out.exists() else None
    if manifest is None:
        if out.exists() and any(out.iterdir()):
            raise SynthError(f"--output {out} is not empty and holds no rnr-synth dataset; choose an empty or new folder")
        return "fresh"
    theirs = manifest.get("job") or {}
    ours = as_recorded(job.identity(), theirs)
    if theirs != ours:
        changed = changed_inputs(theirs.get("inputs"), ours["inputs"])
        if changed and all(k == "inputs" or theirs.get(k) == v for k, v in ours.items()):
            more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
            raise SynthError(
                f"--output {out}: {changed[0]}{more} changed since this dataset was started (same name, other content); "
                "put the original back to resume, or remove the folder to start again"
            )
        differs = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        raise SynthError(
            f"--output {out} already holds a different dataset (differs in: {', '.join(differs)}); "
            "choose another folder or remove it"
        )
    return "complete" if manifest.get("complete") else "resume"


def as_recorded(identity: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """`identity` as the manifest's version wrote it: before content hashes, an input was [name, size].

    So sets made by earlier versions stay complete (or resumable) instead of "different";
    a resumed one gets the hashes when its manifest is rewritten.
    """
    inputs = theirs.get("inputs")
    if isinstance(inputs, list) and inputs and all(isinstance(entry, list) and len(entry) == 2 for entry in inputs):
        return {**identity, "inputs": [entry[:2] for entry in identity["inputs"]]}
    return identity


def changed_inputs(theirs: Any, ours: list[list[Any]]) -> list[str]:
    """Names of inputs that are in both lists but whose content digest differs ([] if the names differ)."""
    if not isinstance(theirs, list) or [entry[:1] for entry in theirs] != [entry[:1] for entry in ours]:
        return []
    return [mine[0] for old, mine in zip(theirs, ours) if list(old) != list(mine)]


def done_chunks(job: Job) -> set[int]:
    """Ids of the chunks already written whole."""
    return {chunk_id for chunk_id, _, _ in job.chunks() if all(path.exists() for path in chunk_files(job, chunk_id))}


def remove_stale_temporaries(out: Path) -> None:
    """What a killed run left half-written: chunks in .parts/, atomic writes' hidden .tmp files."""
    for stale in (out / PARTS).glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink()
    for folder in (out, out / "images"):
        for stale in folder.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
