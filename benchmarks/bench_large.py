"""Peak memory and time of `rnr-restore` (lite default) on a large photo, against a 512x512 one.

    python benchmarks/bench_large.py [--width 4000 --height 3000] [--tile 512]

Makes a foggy, noisy photo of the given size from skimage's astronaut (upscaled), runs
`rnr-restore --explain` on it and on a 512x512 crop, each in its own process, and prints the
peak resident memory (ru_maxrss of the child) and wall time of both: the ratio shows what
the size costs over the fixed cost of loading torch and the models.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def foggy_photo(width: int, height: int) -> np.ndarray:
    import cv2
    from skimage import data

    clean = cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    rng = np.random.default_rng(0)
    transmission = np.linspace(0.9, 0.4, height, dtype=np.float32)[:, None, None]  # denser towards the bottom
    foggy = clean * transmission + 0.85 * (1 - transmission)
    noisy = foggy + rng.normal(0, 0.03, foggy.shape).astype(np.float32)
    return np.clip(noisy, 0, 1)


def run_restore(photo: Path, output: Path, tile: int, extra: Sequence[str] = ()) -> tuple[float, float]:
    """Wall seconds and the child's peak RSS in MiB (each call its own process, so the peak is its own).

    The peak is the child's VmHWM (/proc/self/status), the high-water mark of its own address
    space: `ru_maxrss` would not do, because Linux carries the parent's peak into it across
    fork and exec (bench_lite, holding a data set, once read 4186 MiB there for a 1345 MiB run).
    `extra`: more rnr-restore options (bench_lite passes its --reasoner and --restorer weights).
    """
    script = (
        "import re, resource, sys; from rnr.cli.restore import main; code = main(sys.argv[1:]); "
        "status = open('/proc/self/status').read() if sys.platform == 'linux' else ''; "
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', status); "
        "print('PEAK', hwm.group(1) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)"
    )
    command = [sys.executable, "-c", script, str(photo), "-o", str(output), "--explain", "--tile", str(tile), *extra]
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    peak_kib = int(next(line.split()[1] for line in finished.stdout.splitlines() if line.startswith("PEAK")))
    return seconds, peak_kib / 1024


def main() -> None:
    from rnr.imageio import write_image

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--tile", type=int, default=512)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        large = foggy_photo(args.width, args.height)
        photos = {f"{args.width}x{args.height}": large, "512x512": large[:512, :512]}
        rows = []
        for name, image in photos.items():
            path = Path(folder) / f"{name}.png"
            write_image(path, image)
            seconds, peak = run_restore(path, Path(folder) / "out", args.tile)
            rows.append((name, seconds, peak))
    print(f"\n## rnr-restore --explain (lite), tile {args.tile}, one process each\n")
    print("| photo | wall s | peak RSS (MiB) |\n|---|---:|---:|")
    for name, seconds, peak in rows:
        print(f"| {name} | {seconds:.1f} | {peak:.0f} |")
    (_, s_large, m_large), (_, s_small, m_small) = rows
    print(f"\nlarge / 512x512: time x{s_large / s_small:.1f}, peak memory x{m_large / m_small:.2f}")


if __name__ == "__main__":
    main()
