"""rnr-synth's planning: the job (what makes two runs the same dataset) and its chunks.

Every sample is a pure function of (job, index): its generator is seeded from
``(seed, index)`` and its source photo from a seeded permutation (`source_index`), so
the same job writes the same bytes whatever the worker count, shards are disjoint
index ranges that merge into exactly the unsharded result, and a killed run resumes
chunk by chunk.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from degradations.compose import SynthConfig
from rnr.config import to_dict

if TYPE_CHECKING:
    from rnr.synth_inputs import InputRef

MANIFEST = "rnr-synth.json"
PARTS = ".parts"
FORMATS = ("hf", "folder")
FITS = ("crop", "resize")
MAX_CHUNK = 64


class SynthError(ValueError):
    """A problem with the job as asked (inputs, output folder, options); one line, with the fix."""


@dataclass(frozen=True)
class Job:
    """Everything a sample depends on; `identity()` decides whether two runs are the same dataset."""

    output: str
    inputs: tuple[InputRef, ...]
    num: int
    seed: int = 0
    size: int = 512
    fit: str = "crop"
    format: str = "hf"
    config: SynthConfig = field(default_factory=SynthConfig)
    depth_dir: str | None = None
    depth_kind: str = "depth"
    depth_model: str | None = None
    captions: tuple[tuple[str, str], ...] = ()
    captioner: str | None = None  # a Qwen3-VL model describing each clean crop
    scenes: tuple[tuple[int, str], ...] = ()  # its descriptions, by sample index (derived, not identity)
    stages: bool = True
    shard: tuple[int, int] = (0, 1)

    def __post_init__(self) -> None:
        if self.num < 1:
            raise SynthError(f"--num must be at least 1, got {self.num}")
        if self.seed < 0:
            raise SynthError(f"--seed must be 0 or more (numpy's generators take no negative seeds), got {self.seed}")
        if self.size < 16:
            raise SynthError(f"--size must be at least 16 pixels, got {self.size}")
        if self.format not in FORMATS:
            raise SynthError(f"--format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.fit not in FITS:
            raise SynthError(f"--fit must be one of {', '.join(FITS)}, got {self.fit!r}")
        index, count = self.shard
        if not (count >= 1 and 0 <= index < count):
            raise SynthError(f"--shard {index}/{count}: write I/N with 0 <= I < N")
        if not self.inputs:
            raise SynthError("no readable inputs")

    @property
    def start(self) -> int:
        return self.num * self.shard[0] // self.shard[1]

    @property
    def stop(self) -> int:
        return self.num * (self.shard[0] + 1) // self.shard[1]

    @property
    def chunk_size(self) -> int:
        return max(1, min(MAX_CHUNK, math.ceil((self.stop - self.start) / MAX_CHUNK)))

    def chunks(self) -> list[tuple[int, int, int]]:
        """(chunk id, first index, end index) over this shard's range."""
        size = self.chunk_size
        return [(i, first, min(first + size, self.stop)) for i, first in enumerate(range(self.start, self.stop, size))]

    def for_chunk(self, chunk: tuple[int, int, int]) -> Job:
        """This job with only the scenes of `chunk`: what a worker process needs to be sent for it."""
        _, first, end = chunk
        return replace(self, scenes=tuple((index, text) for index, text in self.scenes if first <= index < end))

    def identity(self) -> dict[str, Any]:
        captions = hashlib.sha256(json.dumps(self.captions).encode()).hexdigest()[:16] if self.captions else None
        return {
            "format": self.format,
            "num": self.num,
            "seed": self.seed,
            "size": self.size,
            "fit": self.fit,
            "shard": list(self.shard),
            "stages": self.stages,
            "config": to_dict(self.config),
            "inputs": [[ref.name, ref.size_bytes, ref.digest] for ref in self.inputs],
            "depth": {"dir": self.depth_dir, "kind": self.depth_kind, "model": self.depth_model},
            "captions": captions,
            "captioner": self.captioner,
        }

    def fingerprint(self) -> str:
        """A short hash of `identity()`: the dataset's `datasets` fingerprint."""
        return hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:16]

    @functools.cached_property
    def scene_of_index(self) -> dict[int, str]:
        return dict(self.scenes)

    @functools.cached_property
    def caption_of_stem(self) -> dict[str, str]:
        return dict(self.captions)


def source_index(seed: int, index: int, count: int) -> int:
    """Which input sample `index` crops: each pass over the inputs is a fresh permutation."""
    epoch, position = divmod(index, count)
    return int(np.random.default_rng([seed, epoch, count, 0x5EED]).permutation(count)[position])
