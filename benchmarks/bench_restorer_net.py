"""Where the lite restorer's time goes on one 512x512 tile, and what the network's variants cost.

    python benchmarks/bench_restorer_net.py [--tile 512] [--repeats 7]

On bench_large's foggy, noisy photo (a tile of it, with the shipped reasoner's diagnosis),
times, median of `--repeats`, in this one process:
- the priors one by one (non-local means, the Wiener deconvolution, the fog inversion) and the network;
- the network as shipped (channels-last memory, FiLM folded into the norm's affine) against
  peers: planar NCHW memory (the layout it trains in), the channel norm as NAFNet's
  LayerNorm2d with FiLM after it, and both (the network as it ran before 2026-12-03).
Outputs of the peers are checked against the shipped network's (max abs difference printed).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch


class NAFNetLayerNorm(torch.nn.Module):
    """The peer: NAFNet's LayerNorm2d as separate passes, FiLM applied after it by the block."""

    def __init__(self, norm) -> None:
        super().__init__()
        self.weight, self.bias = norm.weight, norm.bias

    def forward(self, x, scale=None, shift=None):
        mean = x.mean(dim=1, keepdim=True)
        var = (x - mean).pow(2).mean(dim=1, keepdim=True)
        y = (x - mean) / (var + 1e-6).sqrt() * self.weight + self.bias
        if scale is not None:
            y = y * (1 + scale[:, :, None, None]) + shift[:, :, None, None]
        return y


def median_seconds(runs: dict, repeats: int) -> dict:
    """Each run's median wall time, the runs interleaved so that a drift of the machine touches all alike."""
    times = {name: [] for name in runs}
    for round_ in range(repeats + 1):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            if round_:  # round 0 warms up: first calls allocate
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def with_peer_norms(network):
    peer = copy.deepcopy(network)
    for level in peer.levels:
        for block in level:
            block.norm1, block.norm2 = NAFNetLayerNorm(block.norm1), NAFNetLayerNorm(block.norm2)
    return peer


def main() -> None:
    from bench_large import foggy_photo

    from reasoner.lite import LiteReasoner
    from restorer.lite import LiteRestorer
    from restorer.priors import fog_inversion, nlm_denoise, wiener_deblur

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    photo = foggy_photo(args.tile, args.tile)
    restorer = LiteRestorer.load()
    condition = restorer.condition_for(photo, LiteReasoner.load().diagnose([photo])[0])
    image = torch.from_numpy(photo).permute(2, 0, 1)[None].contiguous()
    noise = torch.zeros_like(image[:, :1])
    denoised = nlm_denoise(image, condition)
    deblurred = wiener_deblur(denoised, condition)
    prior = fog_inversion(deblurred, condition)
    network = restorer.model  # channels-last, as LiteRestorer.load gives it
    inputs = (image, deblurred, prior, noise, condition)
    planar = copy.deepcopy(network).to(memory_format=torch.contiguous_format)
    variants = {
        "as shipped (channels-last, FiLM folded into the norm)": network,
        "peer: planar NCHW memory": planar,
        "peer: NAFNet LayerNorm2d, FiLM after it": with_peer_norms(network),
        "peer: both (the network before 2026-12-03)": with_peer_norms(planar),
    }
    with torch.no_grad():
        reference = network(*inputs)
        seconds = median_seconds({name: lambda m=model: m(*inputs) for name, model in variants.items()}, args.repeats)
        rows = [(name, seconds[name], float((model(*inputs) - reference).abs().max())) for name, model in variants.items()]
        priors = {
            "non-local means": lambda: nlm_denoise(image, condition),
            "Wiener deconvolution": lambda: wiener_deblur(denoised, condition),
            "fog inversion": lambda: fog_inversion(deblurred, condition),
        }
        prior_rows = list(median_seconds(priors, args.repeats).items())
    base = rows[0][1]
    print(f"\n## Lite restorer on one {args.tile}x{args.tile} tile, {torch.get_num_threads()} threads, median of {args.repeats}\n")
    print("| network | s | ratio to shipped | max abs difference |\n|---|---:|---:|---:|")
    for name, seconds, difference in rows:
        print(f"| {name} | {seconds:.3f} | {seconds / base:.2f} | {difference:.1e} |")
    print("\n| prior | s |\n|---|---:|")
    for name, seconds in prior_rows:
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
