"""Device and dtype choices shared by every model backend."""

from __future__ import annotations

DTYPES = ("auto", "float32", "bfloat16", "float16")


def resolve_device(device: str = "auto") -> str:
    """"auto" is the GPU when there is one, else the CPU."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def torch_dtype(name: str, device: str):
    """"auto" is bfloat16 on GPUs that support it, float32 elsewhere (CPU kernels are fp32-fast)."""
    import torch

    if name == "auto":
        return torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float32
    if name not in DTYPES:
        raise ValueError(f"dtype {name!r}: use one of {', '.join(DTYPES)}")
    return getattr(torch, name)


def launched_accelerator(**settings):
    """`accelerate.Accelerator(**settings)` that refuses to run if it did not join the launch it was started in.

    Under `accelerate launch` with a multi-process config on a machine with no GPU, torchrun
    starts the processes but accelerate 1.15 joins them only if ACCELERATE_USE_CPU is set;
    without it each process would train alone on the same data and overwrite the others' output.
    """
    import os

    from accelerate import Accelerator

    from rnr.config import ConfigError

    accelerator = Accelerator(**settings)
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched > 1 and accelerator.num_processes != launched:
        raise ConfigError(
            f"{launched} processes were launched but accelerate joined {accelerator.num_processes}: "
            "on a CPU, launch with ACCELERATE_USE_CPU=true in the environment"
        )
    return accelerator
