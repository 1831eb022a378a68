"""rnr-synth --merge: complete shards of one job joined into one dataset, the unsharded one when they cover it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Sequence

from rnr import __version__
from rnr.imageio import atomic_write_text
from rnr.synth_job import SynthError
from rnr.synth_manifest import read_manifest, save_manifest
from rnr.synth_writing import publish_dataset

Shard = tuple[dict[str, Any], str]  # (its manifest, its folder)


def merge(sources: Sequence[str], output: str) -> tuple[int, dict[str, Any]]:
    """Join complete shards of one job into `output`; returns (rows, manifest)."""
    shards = shards_of_one_job(sources)
    out = Path(output)
    if out.exists() and any(out.iterdir()):
        raise SynthError(f"--output {out} is not empty; merge into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    base = job_without_shard(shards[0][0])
    rows = _join_hf(shards, out) if base["format"] == "hf" else _join_folders(shards, out)
    ranges = [manifest["range"] for manifest, _ in shards]
    whole = ranges[0][0] == 0 and ranges[-1][1] == base["num"] and all(
        end == start for (_, end), (start, _) in zip(ranges, ranges[1:])
    )
    manifest = {
        "tool": "rnr-synth",
        "version": __version__,
        # a merge covering every index is the same dataset as the unsharded run
        "job": {**base, "shard": [0, 1] if whole else ["merged", ranges]},
        "range": [ranges[0][0], ranges[-1][1]],
        "complete": True,
        "skipped": sorted({line for manifest, _ in shards for line in manifest.get("skipped", [])}),
        "merged_from": [source for _, source in shards],
    }
    save_manifest(out, manifest)
    return rows, manifest


def job_without_shard(manifest: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in manifest["job"].items() if key != "shard"}


def shards_of_one_job(sources: Sequence[str]) -> list[Shard]:
    """The sources' manifests in index order; refused unless complete, of one job and disjoint."""
    shards = []
    for source in sources:
        manifest = read_manifest(Path(source))
        if manifest is None or not manifest.get("complete"):
            raise SynthError(f"--merge {source}: not a complete rnr-synth output; finish that run first")
        shards.append((manifest, source))
    shards.sort(key=lambda shard: shard[0]["range"][0])
    base = job_without_shard(shards[0][0])
    for manifest, source in shards[1:]:
        if job_without_shard(manifest) != base:
            raise SynthError(f"--merge {source}: made by a different job than {shards[0][1]}; only shards of one job merge")
    ranges = [manifest["range"] for manifest, _ in shards]
    for (_, end), (start, _) in zip(ranges, ranges[1:]):
        if start < end:
            raise SynthError("--merge: shards overlap (the same shard given twice?)")
    return shards


def _join_hf(shards: list[Shard], out: Path) -> int:
    from datasets import concatenate_datasets, load_from_disk

    dataset = concatenate_datasets([load_from_disk(source) for _, source in shards])
    publish_dataset(dataset, out, staging=out / ".assemble")
    return len(dataset)


def _join_folders(shards: list[Shard], out: Path) -> int:
    rows = 0
    for name in ("records.jsonl", "sft.jsonl"):
        text = "".join((Path(source) / name).read_text() for _, source in shards)
        atomic_write_text(out / name, text)
        rows = text.count("\n")
    for _, source in shards:
        shutil.copytree(Path(source) / "images", out / "images", dirs_exist_ok=True)
    return rows
