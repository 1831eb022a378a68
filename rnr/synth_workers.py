"""rnr-synth's worker processes: checking inputs and writing chunks in parallel, dying with their parent.

A `multiprocessing` spawn pool rather than `concurrent.futures.ProcessPoolExecutor`: on an
interrupt the pool's exit terminates the workers at once, while the executor (before
Python 3.14's `terminate_workers`) lets every chunk already queued run to its end first.
Each task carries its job, so no module holds one.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from pathlib import Path
from typing import Callable, Iterator, Sequence

import cv2

from rnr import synth_writing
from rnr.imageio import MAX_PIXELS, lift_pil_pixel_limit
from rnr.synth_inputs import InputRef, check_input
from rnr.synth_job import PARTS, Job
from rnr.synth_resume import done_chunks, remove_stale_temporaries

MIN_INPUTS_FOR_A_POOL = 64  # starting a pool costs ~1 s, the time to decode ~60 photos


def tune_malloc() -> None:
    """Keep freed image-sized buffers in the heap (glibc): fresh mmaps page-fault on every sample.

    Needed because each sample allocates and frees a few dozen image-sized arrays, each
    above glibc's default mmap threshold: measured ~10 ms of a ~50 ms composite at
    512x512 (docs/BENCHMARKS.md). `mallopt` is the only way to set it in a running
    process (the MALLOC_* variables are read at start). A no-op off glibc.
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def die_with_parent(parent: int) -> None:
    """End this worker process when `parent` dies, even by SIGKILL, so no orphan goes on writing chunks.

    Linux: the kernel sends SIGKILL (prctl PR_SET_PDEATHSIG); elsewhere a thread polls the
    parent's pid. Parent death before the request took effect is caught by comparing pids.
    """
    import ctypes
    import signal
    import threading
    import time

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, name="die-with-parent", daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def quiet_datasets() -> None:
    """No `datasets` progress bars in this process (rnr-synth draws its own)."""
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()


def init_checker(parent: int) -> None:
    """Initializer of the input-checking processes."""
    die_with_parent(parent)
    lift_pil_pixel_limit()  # check_input applies the job's --max-pixels itself, naming the file


def init_writer(parent: int | None, uses_torch: bool) -> None:
    """Set up a process that writes chunks: `parent` is None when it is the calling process itself."""
    if parent is not None:
        die_with_parent(parent)
        lift_pil_pixel_limit()  # its own process: inputs were checked against --max-pixels already
    tune_malloc()
    cv2.setNumThreads(1)  # processes give the parallelism; threads inside each only contend
    quiet_datasets()
    if uses_torch:
        import torch

        torch.set_num_threads(1)


def write_chunk_task(task: tuple[Job, tuple[int, int, int]]) -> int:
    """`write_chunk` of one (job, chunk) task, in a pool worker."""
    job, chunk = task
    return synth_writing.write_chunk(job, chunk)


def run_chunks(job: Job, workers: int, progress: Callable[[int], None]) -> int:
    """Write every chunk not yet done; returns how many samples this call made."""
    (Path(job.output) / PARTS).mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(Path(job.output))
    todo = [chunk for chunk in job.chunks() if chunk[0] not in done_chunks(job)]
    uses_torch = job.depth_model is not None
    made = 0
    if workers <= 1 or len(todo) <= 1:
        init_writer(None, uses_torch)
        for chunk in todo:
            count = synth_writing.write_chunk(job, chunk)  # looked up here, so tests can stand in for it
            made += count
            progress(count)
        return made
    context = multiprocessing.get_context("spawn")  # fork is unsafe once torch or BLAS threads exist
    tasks = [(job.for_chunk(chunk), chunk) for chunk in todo]
    with context.Pool(min(workers, len(todo)), initializer=init_writer, initargs=(os.getpid(), uses_torch)) as pool:
        for count in pool.imap_unordered(write_chunk_task, tasks):
            made += count
            progress(count)
    return made


def check_inputs(refs: Sequence[InputRef], workers: int, max_pixels: int | None = MAX_PIXELS) -> Iterator[tuple[InputRef, str | None]]:
    """`check_input` of each, in order; processes when there are many."""
    check = functools.partial(check_input, max_pixels=max_pixels)
    if workers <= 1 or len(refs) < MIN_INPUTS_FOR_A_POOL:
        yield from map(check, refs)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=init_checker, initargs=(os.getpid(),)) as pool:
        yield from pool.imap(check, refs, chunksize=4)
