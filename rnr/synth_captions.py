"""rnr-synth's scene texts: captions supplied per photo, or written per sample by a Qwen3-VL captioner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from rnr.diagnosis import clip_words
from rnr.imageio import atomic_write_text
from rnr.synth_job import PARTS, Job, SynthError
from rnr.synth_sample import clean_crop


def load_captions(path: str | None) -> dict[str, str]:
    """JSONL lines of ``{"stem": ..., "text": ...}`` or ``{"<stem>": "<text>"}``."""
    if path is None:
        return {}
    captions: dict[str, str] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise SynthError(f"--captions {path}: cannot read ({error.strerror})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise SynthError(f"--captions {path}:{number}: not JSON; each line is {{\"stem\": ..., \"text\": ...}}") from None
        if isinstance(entry, dict) and "stem" in entry:
            text = entry.get("text", entry.get("scene", entry.get("caption", "")))
            captions[str(entry["stem"])] = clip_words(str(text))
        elif isinstance(entry, dict) and len(entry) == 1:
            (stem, text), = entry.items()
            captions[str(stem)] = clip_words(str(text))
        else:
            raise SynthError(f"--captions {path}:{number}: expected {{\"stem\": ..., \"text\": ...}} or {{stem: text}}")
    return captions


def caption_samples(job: Job, batch_size: int, progress: Callable[[int], None]) -> dict[int, str]:
    """Describe each sample's clean crop with the captioner (cached in .parts/ for resumed runs)."""
    cache = Path(job.output) / PARTS / "scenes.json"
    if cache.is_file():
        cached = json.loads(cache.read_text())
        if cached.get("captioner") == job.captioner:
            progress(job.stop - job.start)
            return {int(k): v for k, v in cached["scenes"].items()}
    from reasoner.qwen import QwenReasoner

    captioner = QwenReasoner.from_pretrained(job.captioner)
    scenes: dict[int, str] = {}
    indices = list(range(job.start, job.stop))
    for first in range(0, len(indices), batch_size):
        batch = indices[first : first + batch_size]
        texts = captioner.describe_scene([clean_crop(job, index) for index in batch], batch_size=batch_size)
        scenes.update(zip(batch, texts))
        progress(len(batch))
    atomic_write_text(cache, json.dumps({"captioner": job.captioner, "scenes": scenes}))
    return scenes
