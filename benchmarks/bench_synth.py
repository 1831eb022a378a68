"""Synthesizer speed against its peers, and rnr-synth end to end against an encode-only floor.

    pip install -e ".[bench]"
    python benchmarks/bench_synth.py [--images 8] [--rounds 5] [--num 192]

Part 1 runs, in one process, single-threaded, on the same 512x512 crops of the bundled
photos: our four-degradation composite (fog, shake, rain, noise all present, parameters
sampled per image, uint8 in and out like the peers), imagecorruptions' fog →
motion_blur → snow → gaussian_noise (severity 3; snow stands in for rain), and
albumentations' Compose(RandomFog, MotionBlur, RandomRain, GaussNoise). Rounds are
interleaved (each round times every method) and it prints ms/image and each peer's
time as a multiple of ours, both medians over rounds.

Part 2 runs `rnr-synth` with 2 workers at 512 (hf format, every stage stored) and
compares its wall time with the floor of just PNG-encoding exactly the images it
wrote: two worker processes encoding their halves at the same time (the slower one's
time), as rnr-synth's workers do. The idealised floor (encode time / 2, no memory
contention) is printed too.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import cv2
import numpy as np

from degradations import SynthConfig, synthesize
from rnr import BUNDLED_PHOTOS
from rnr.imageio import read_image, to_float, to_uint8
from rnr.synth_workers import tune_malloc

ALL_FOUR = SynthConfig(p_fog=1, p_shake=1, p_rain=1, p_noise=1, clean_share=0)


def crops(count: int, size: int = 512) -> list[np.ndarray]:
    photos = sorted(BUNDLED_PHOTOS.glob("*.jpg"))[:count]
    out = []
    for path in photos:
        image = read_image(path)
        out.append(to_uint8(image[:size, :size]))
    return out


def ours(images: list[np.ndarray]) -> None:
    for index, image in enumerate(images):
        to_uint8(synthesize(to_float(image), np.random.default_rng([0, index]), ALL_FOUR).degraded)


def imagecorruptions_composite():
    np.float_ = np.float64  # imagecorruptions 1.1.2 predates NumPy 2, which removed this alias
    from imagecorruptions import corrupt

    def run(images: list[np.ndarray]) -> None:
        for image in images:
            for name in ("fog", "motion_blur", "snow", "gaussian_noise"):
                image = corrupt(image, corruption_name=name, severity=3)

    return run


def albumentations_composite():
    import albumentations as A

    compose = A.Compose([A.RandomFog(p=1), A.MotionBlur(p=1), A.RandomRain(p=1), A.GaussNoise(p=1)], seed=0)

    def run(images: list[np.ndarray]) -> None:
        for image in images:
            compose(image=image)

    return run


def composites(images: list[np.ndarray], rounds: int) -> None:
    cv2.setNumThreads(1)
    methods = {
        "rnr (fog+shake+rain+noise)": ours,
        "imagecorruptions (fog+motion_blur+snow+gaussian_noise)": imagecorruptions_composite(),
        "albumentations (RandomFog+MotionBlur+RandomRain+GaussNoise)": albumentations_composite(),
    }
    for run in methods.values():
        run(images[:2])  # warm-up: imports, caches
    # Interleaved rounds: every method sees the same machine state, so ratios survive drift.
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(rounds):
        for name, run in methods.items():
            start = time.perf_counter()
            run(images)
            times[name].append((time.perf_counter() - start) / len(images) * 1e3)
    ours_name = next(iter(methods))
    print(f"\n512x512, single thread, {len(images)} images, {rounds} interleaved rounds (median)\n")
    print("| composite | ms/image | × rnr |")
    print("|---|---:|---:|")
    for name in methods:
        ratio = statistics.median(t / o for t, o in zip(times[name], times[ours_name]))
        print(f"| {name} | {statistics.median(times[name]):.1f} | {ratio:.2f} |")
    fastest = min(statistics.median(t / o for t, o in zip(times[n], times[ours_name])) for n in methods if n != ours_name)
    print(f"\nfastest peer / rnr = {fastest:.2f}x (target >= 3)")


def _encode_share(args) -> tuple[float, int]:
    """One worker's half of the encode floor: make its samples untimed, then time encoding them."""
    num, worker, workers, barrier = args
    from rnr.synth_inputs import collect_inputs
    from rnr.synth_job import Job
    from rnr.synth_rows import encode_sample
    from rnr.synth_sample import make_sample

    tune_malloc()
    cv2.setNumThreads(1)
    job = Job(output="unused", inputs=tuple(collect_inputs(["bundled"])), num=num, size=512)
    samples = [make_sample(job, index)[0] for index in range(worker, num, workers)]
    barrier.wait()  # both workers encode at the same time, as rnr-synth's workers do
    start = time.perf_counter()
    pngs = sum(len(encode_sample(sample, stages=True)) for sample in samples)
    return time.perf_counter() - start, pngs


def end_to_end(num: int) -> None:
    from rnr.cli.synth import main

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set"
        args = ["--input", "bundled", "--output", str(out), "--num", str(num), "--size", "512", "--workers", "2"]
        start = time.perf_counter()
        main([*args, "--quiet"])
        wall = time.perf_counter() - start
        produce = json.loads((out / "rnr-synth.json").read_text())["seconds"]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(2) as pool:
        barrier = manager.Barrier(2)
        shares = pool.map(_encode_share, [(num, worker, 2, barrier) for worker in range(2)])
    floor = max(seconds for seconds, _ in shares)
    ideal = sum(seconds for seconds, _ in shares) / 2
    pngs = sum(count for _, count in shares)
    print(f"\nrnr-synth end to end: {num} samples at 512, 2 workers, hf format, all stages stored\n")
    print("| measure | seconds | samples/s |")
    print("|---|---:|---:|")
    print(f"| rnr-synth, whole command (checking inputs, pool start, writing, assembling) | {wall:.2f} | {num / wall:.1f} |")
    print(f"| rnr-synth, producing and writing (its closing line) | {produce:.2f} | {num / produce:.1f} |")
    print(f"| floor: 2 workers PNG-encoding the {pngs} images it wrote, concurrently | {floor:.2f} | {num / floor:.1f} |")
    print(f"| (idealised floor: the same encode time split perfectly over 2 cores) | {ideal:.2f} | {num / ideal:.1f} |")
    print(f"\nwhole command / floor = {wall / floor:.2f}x (target <= 2); against the idealised floor {wall / ideal:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--num", type=int, default=384, help="samples for the end-to-end run")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    tune_malloc()  # process-wide, so the peers get the same allocator as we do
    composites(crops(args.images), args.rounds)
    end_to_end(args.num)


if __name__ == "__main__":
    main()
