"""Diagnosis.parse time against input length, for hostile inputs: it must grow at most linearly.

    python benchmarks/bench_parse.py

Prints a Markdown table: per input kind and length, the median of 5 parses (ms), and the
ratio to the shortest length's time over the ratio of lengths (<= ~1: linear or better;
parse reads at most 20,000 characters and 400 per line, so long inputs flatten out).
"""

import statistics
import time

from rnr import Diagnosis

KINDS = {
    "spaces then x": lambda n: " " * n + "x",
    "bullet, spaces": lambda n: "- " + " " * n + "x",
    "<think> repeated": lambda n: "\n<think>" * (n // 8),
    "digits in a vector": lambda n: "- Fog: atmospheric light [" + "1" * n,
    "nested JSON": lambda n: "{" * (n // 2) + "}" * (n // 2),
    "a real diagnosis, repeated": lambda n: ("Fog degradation: Yes (40.0/100)\nMotion blur: No (0.0/100)\n" * (n // 60)),
}
LENGTHS = (1_000, 10_000, 100_000, 1_000_000)


def median_ms(text: str) -> float:
    times = []
    for _ in range(5):
        started = time.perf_counter()
        Diagnosis.parse(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    print("| input | " + " | ".join(f"{n:,} chars (ms)" for n in LENGTHS) + " | growth / length growth, last vs first |")
    print("|---|" + "---:|" * (len(LENGTHS) + 1))
    for name, make in KINDS.items():
        times = [median_ms(make(n)) for n in LENGTHS]
        growth = (times[-1] / max(times[0], 1e-3)) / (LENGTHS[-1] / LENGTHS[0])
        print(f"| {name} | " + " | ".join(f"{t:.2f}" for t in times) + f" | {growth:.3f} |")


if __name__ == "__main__":
    main()
