"""Device and precision resolution (``--device auto``, ``--precision auto``)."""

from __future__ import annotations

import functools
from pathlib import Path

import torch

from reprlearn.errors import ReprlearnError

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
DEVICE_TYPES = ("cpu", "cuda", "mps")


class DeviceError(ReprlearnError, ValueError):
    """A ``--device`` that is malformed or absent on this machine."""


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def available_devices() -> list[str]:
    """The devices this machine has, e.g. ``["cpu", "cuda:0", "cuda:1"]`` (cpu first)."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        found.append("mps")
    return found


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` -> cuda > mps > cpu; ``cpu``, ``cuda``, ``cuda:N`` and ``mps`` are checked
    against what the machine has.

    Raises:
        DeviceError: a malformed name (``gpu0``) or a device this machine lacks
            (``cuda`` without a GPU, ``cuda:3`` with two); the message lists the devices
            that exist.
    """
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    have = ", ".join(available_devices())
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise DeviceError(
            f"--device {device!r} is not a device name; use auto, cpu, cuda, cuda:N or mps "
            f"(this machine has: {have})"
        ) from None
    if dev.type not in DEVICE_TYPES:
        raise DeviceError(
            f"--device {device!r}: reprlearn runs on auto, cpu, cuda, cuda:N or mps "
            f"(this machine has: {have})"
        )
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DeviceError(
                f"--device {device!r}: no CUDA GPU on this machine (or torch "
                f"{torch.__version__} was built without CUDA); it has: {have}. "
                "Use --device auto or cpu"
            )
        if dev.index is not None and dev.index >= count:
            raise DeviceError(f"--device {device!r}: this machine has {count} CUDA GPU(s): {have}")
    if dev.type == "mps" and not _mps_available():
        raise DeviceError(f"--device {device!r}: MPS is not available here; it has: {have}")
    return dev


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
        if precision == "int8":
            raise ValueError(
                "--precision int8 runs st: models quantised for the onnx/openvino backends "
                "(reprlearn.encoders.backends; local engine), not torch weights; use "
                "--precision auto, fp32, bf16 or fp16 here"
            )
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
