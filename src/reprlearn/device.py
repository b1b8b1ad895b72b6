"""Device and precision resolution (``--device auto``, ``--precision auto``)."""

from __future__ import annotations

import functools
from pathlib import Path

import torch

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` -> cuda > mps > cpu; any other value is passed to ``torch.device``."""
    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """True when the CPU has AMX-BF16 or AVX512-BF16 (read from ``/proc/cpuinfo``)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return bool({"amx_bf16", "avx512_bf16"} & flags)


def resolve_precision(precision: str, device: torch.device) -> str:
    """``"auto"`` -> ``"bf16"`` on CUDA with bf16 support and on CPUs with AMX/AVX512-BF16,
    else ``"fp32"``. Explicit ``fp32|bf16|fp16`` are returned unchanged.

    Raises:
        ValueError: an unknown precision name.
    """
    if precision != "auto":
        if precision not in PRECISIONS:
            raise ValueError(
                f"unknown precision {precision!r}; choose auto, {', '.join(PRECISIONS)}"
            )
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu" and cpu_has_fast_bf16():
        return "bf16"
    return "fp32"
