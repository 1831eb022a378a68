"""rnr-synth's engine: clean photos → random crops → degradations → a training set on disk.

One entry point, `synthesize(SynthOptions(...))`; `rnr-synth` parses its command line into
the options and calls it. The work is split by job:

- `rnr.synth_job` — planning: the job, its identity, its chunks, which photo each sample crops;
- `rnr.synth_inputs` — the photos (files, folders, globs, `datasets` folders), checked and cached;
- `rnr.synth_captions` — scene texts; `rnr.synth_sample` — one sample; `rnr.synth_rows` — its columns;
- `rnr.synth_workers` — the processes; `rnr.synth_writing` — chunks and the final dataset;
- `rnr.synth_manifest`, `rnr.synth_resume` — the manifest, and resuming a killed run;
- `rnr.synth_merge` — joining shards.

On disk (``--output OUT``):
- ``rnr-synth.json`` — the manifest: the job (what makes two runs the same dataset),
  whether it is complete, and the inputs that were skipped and why.
- ``hf`` format: a `datasets` dataset (``datasets.load_from_disk(OUT)``);
  ``folder`` format: ``images/*.png`` plus ``records.jsonl`` and ``sft.jsonl``.
- ``.parts/`` while running: one finished chunk per entry, each written to a temporary
  name and renamed, so an interrupted run never leaves half a chunk behind.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from degradations import depth as depth_priors
from degradations.compose import SynthConfig
from rnr.imageio import MAX_PIXELS, atomic_write_text, pil_pixel_limit_lifted
from rnr.synth_captions import caption_samples, load_captions
from rnr.synth_inputs import InputRef, collect_inputs
from rnr.synth_job import Job, SynthError
from rnr.synth_manifest import write_manifest
from rnr.synth_merge import merge
from rnr.synth_resume import done_chunks, prepare_output
from rnr.synth_rows import hf_features, record_columns
from rnr.synth_sample import depth_model, make_sample
from rnr.synth_workers import check_inputs, quiet_datasets, run_chunks
from rnr.synth_writing import finalize

# hf_features and record_columns: the dataset's columns, which the schema tests check from here
__all__ = ["SynthOptions", "SynthResult", "SynthError", "synthesize", "hf_features", "record_columns"]


@dataclass(frozen=True)
class SynthOptions:
    """What to make, as rnr-synth's options say it (`merge` set: join those shards into `output` instead)."""

    output: str
    inputs: tuple[str, ...] = ()
    num: int | None = None
    seed: int = 0
    size: int = 512
    fit: str = "crop"
    format: str = "hf"
    workers: int = 1
    config: SynthConfig = field(default_factory=SynthConfig)
    depth_dir: str | None = None
    depth_kind: str = "depth"
    depth_model: str | None = None
    captions: str | None = None  # a JSONL file of scene texts by photo stem
    captioner: str | None = None
    caption_batch: int = 8
    shard: tuple[int, int] = (0, 1)
    stages: bool = True
    strict: bool = False
    max_pixels: int = MAX_PIXELS
    preview: str | None = None  # a PNG contact sheet of the first samples
    quiet: bool = False
    merge: tuple[str, ...] = ()

    def check(self) -> None:
        """Refuse, in one line, what makes no job, before anything is read or written."""
        if not self.merge and (not self.inputs or self.num is None):
            raise SynthError("--input and --num are required (or --merge to join shards)")
        for flag, value in (("--workers", self.workers), ("--caption-batch", self.caption_batch), ("--max-pixels", self.max_pixels)):
            if value < 1:
                raise SynthError(f"{flag} must be at least 1, got {value}")
        if self.seed < 0:
            raise SynthError(f"--seed must be 0 or more (numpy's generators take no negative seeds), got {self.seed}")


@dataclass(frozen=True)
class SynthResult:
    """What a call did: `state` is 'written', 'complete' (there already, nothing to do) or 'merged'."""

    state: str
    samples: int  # in the output (this shard's range, or the merge's rows)
    made: int = 0  # samples made by this call (0 when a resumed run found them all)
    seconds: float = 0.0
    skipped: tuple[str, ...] = ()  # one line per input that was left out, and why


def say_on_stderr(message: str) -> None:
    print(f"rnr-synth: {message}", file=sys.stderr)


def synthesize(options: SynthOptions, say: Callable[[str], None] = say_on_stderr) -> SynthResult:
    """Make (or resume, or merge) the dataset `options` describe; notes along the way go to `say`.

    Raises SynthError for a job it cannot do; an interrupt (KeyboardInterrupt) leaves a
    resumable output.
    """
    options.check()
    if options.merge:
        rows, _ = merge(options.merge, options.output)
        return SynthResult("merged", rows)
    quiet_datasets()
    with pil_pixel_limit_lifted():  # --max-pixels decides, in a message that names the photo
        job, skipped = plan_job(options, say)
        if prepare_output(job) == "complete":
            result = SynthResult("complete", job.stop - job.start, skipped=tuple(skipped))
        else:
            job, made, seconds = write_dataset(options, job, skipped, say)
            result = SynthResult("written", job.stop - job.start, made, seconds, tuple(skipped))
        if skipped:
            atomic_write_text(Path(options.output) / "skipped.txt", "\n".join(skipped) + "\n")
        if options.preview:
            write_preview(job, options.preview)
    return result


def plan_job(options: SynthOptions, say: Callable[[str], None]) -> tuple[Job, list[str]]:
    """The job over the inputs that decode, and a line for each that does not; everything checked first."""
    refs = collect_inputs(options.inputs)
    captions = load_captions(options.captions)
    if options.depth_dir is not None and not Path(options.depth_dir).is_dir():
        raise SynthError(f"--depth {options.depth_dir}: not a folder")
    if options.captioner is not None:
        from reasoner.qwen import check_is_qwen3_vl

        check_is_qwen3_vl(options.captioner)  # before anything is written
    if options.depth_model is not None:
        try:
            depth_model(options.depth_model)  # fail now, not inside a worker
        except ValueError as error:
            raise SynthError(str(error)) from None
    valid, skipped = checked_inputs(options, refs, say)
    job = Job(
        output=options.output,
        inputs=tuple(valid),
        num=options.num,
        seed=options.seed,
        size=options.size,
        fit=options.fit,
        format=options.format,
        config=options.config,
        depth_dir=options.depth_dir,
        depth_kind=options.depth_kind,
        depth_model=options.depth_model,
        captions=tuple(sorted(captions.items())),
        captioner=options.captioner,
        stages=options.stages,
        shard=options.shard,
    )
    return job, skipped


def checked_inputs(options: SynthOptions, refs: list[InputRef], say: Callable[[str], None]) -> tuple[list[InputRef], list[str]]:
    """(the inputs that decode, with their content digests; one line for each that does not)."""
    from tqdm import tqdm

    valid, skipped = [], []
    checks = check_inputs(refs, options.workers, options.max_pixels)
    for ref, problem in tqdm(checks, total=len(refs), desc="checking inputs", unit="img", disable=options.quiet, leave=False):
        if problem is None:
            valid.append(ref)
        else:
            say(f"skipping {problem}")
            skipped.append(problem)
    if skipped and options.strict:
        raise SynthError(f"{len(skipped)} unreadable input(s) and --strict is set: fix or remove them")
    if not valid:
        raise SynthError("none of the inputs is a readable image")
    if options.depth_dir is not None:
        missing = [ref.stem for ref in valid if depth_priors.find_depth_file(options.depth_dir, ref.stem) is None]
        for stem in missing[:5]:
            say(f"no depth map for {stem} in {options.depth_dir}; its fog uses the next depth source")
        if len(missing) > 5:
            say(f"... and {len(missing) - 5} more photos without a depth map")
    return valid, skipped


def write_dataset(options: SynthOptions, job: Job, skipped: list[str], say: Callable[[str], None]) -> tuple[Job, int, float]:
    """Make the samples not yet on disk, then assemble them; (the job with its scenes, samples made, seconds)."""
    from tqdm import tqdm

    total = job.stop - job.start
    Path(job.output).mkdir(parents=True, exist_ok=True)
    write_manifest(job, complete=False, skipped=skipped)
    if job.captioner is not None:
        with tqdm(total=total, desc="captioning", unit="img", disable=options.quiet) as bar:
            scenes = caption_samples(job, options.caption_batch, bar.update)
        job = replace(job, scenes=tuple(sorted(scenes.items())))
    done = sum(end - first for chunk_id, first, end in job.chunks() if chunk_id in done_chunks(job))
    if done:
        say(f"resuming: {done} of {total} samples already written")
    started = time.perf_counter()
    with tqdm(total=total, initial=done, desc="rnr-synth", unit="sample", disable=options.quiet) as bar:
        made = run_chunks(job, options.workers, bar.update)
    finalize(job)
    elapsed = time.perf_counter() - started
    write_manifest(job, complete=True, skipped=skipped, extra={"seconds": round(elapsed, 3)})
    return job, made, elapsed


def write_preview(job: Job, path: str, count: int = 8) -> None:
    """A contact sheet of the job's first samples, re-made (cheap and exact)."""
    from rnr.imageio import write_image
    from rnr.preview import contact_sheet

    samples = [make_sample(job, index)[0] for index in range(job.start, min(job.stop, job.start + count))]
    write_image(path, contact_sheet(samples))
