"""Inference backends of ``st:`` encoders: ``--backend auto|torch|onnx|openvino``.

``torch`` runs the model in PyTorch (bf16 weights where the hardware has them, see
:func:`reprlearn.device.resolve_precision`). ``onnx`` and ``openvino`` are
sentence-transformers' own backends (``SentenceTransformer(NAME, backend=...)``), which
export a local model through Hugging Face ``optimum`` (``optimum-onnx`` /
``optimum-intel``); reprlearn writes no exporter of its own. When ``optimum`` is missing
or does not fit the installed transformers, choosing such a backend raises
:class:`BackendUnavailableError` saying why and what to install.

``auto`` picks the fastest backend measured on this kind of machine
(``benchmarks/embed_text.py``) among those installed, and says what it picked (the
manifest's ``encoder.backend`` and ``encoder.backend_choice``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from typing import Any

from reprlearn.errors import ReprlearnError

BACKENDS = ("auto", "torch", "onnx", "openvino")
# Fastest first, as measured by benchmarks/embed_text.py on a 2-core AMX CPU (MiniLM):
# torch bf16 with token-budget batches; onnx/openvino could not be installed beside
# transformers 5 there (optimum-onnx pins transformers<4.58, optimum-intel <5.6), so they
# rank after the measured backend until a measurement says otherwise.
SPEED_ORDER = ("torch", "openvino", "onnx")
_NEEDS = {
    "onnx": ("optimum.onnxruntime", "optimum-onnx[onnxruntime]"),
    "openvino": ("optimum.intel", "optimum-intel[openvino]"),
}


class BackendUnavailableError(ReprlearnError):
    """A ``--backend`` that this installation cannot run (names what is missing)."""


def backend_problem(backend: str) -> str | None:
    """Why ``backend`` cannot run here, or None when it can."""
    if backend == "torch":
        return None
    module, package = _NEEDS[backend]
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if found:
        return None
    return (
        f"sentence-transformers' {backend} backend needs {package} (Hugging Face optimum), "
        f"which is not installed; it pins transformers below the installed "
        f"{_version('transformers')}, so pip would downgrade transformers: install it in "
        "an environment with a transformers it supports"
    )


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "(none)"


def check_backend(backend: str) -> None:
    """Raise :class:`BackendUnavailableError` for an unknown or uninstallable backend."""
    if backend not in BACKENDS:
        raise BackendUnavailableError(
            f"--backend {backend!r} is not a backend; choose one of {', '.join(BACKENDS)}"
        )
    if backend != "auto" and (problem := backend_problem(backend)):
        raise BackendUnavailableError(
            f"--backend {backend}: {problem}; or use --backend torch (or auto)"
        )


def resolve_backend(backend: str) -> tuple[str, str]:
    """``backend`` -> (the backend to run, a sentence saying why).

    ``auto``: the first of :data:`SPEED_ORDER` that is installed, with the reasons the
    faster-ranked or skipped ones were not used.

    Raises:
        BackendUnavailableError: an unknown backend, or one that is not installed.
    """
    check_backend(backend)
    if backend != "auto":
        return backend, f"{backend}: asked for"
    skipped = {b: backend_problem(b) for b in SPEED_ORDER}
    chosen = next(b for b in SPEED_ORDER if skipped[b] is None)
    others = [f"{b}: {'not installed' if p else 'measured slower'}" for b, p in skipped.items()]
    others = [o for o in others if not o.startswith(chosen + ":")]
    return chosen, f"auto picked {chosen}, the fastest measured here ({'; '.join(others)})"


def choose_backend(encoder: Any, backend: str, precision: str) -> str:
    """Put ``encoder`` on the backend ``backend`` resolves to; returns that backend.

    ``st:`` encoders switch through ``use_backend`` (sentence-transformers' backends);
    other encoders run in torch (or are not neural), so only ``auto``/``torch`` fit them.

    Raises:
        BackendUnavailableError: an unknown or uninstalled backend, ``onnx``/``openvino``
            for an encoder that is not ``st:``, or ``precision="int8"`` (quantised models
            come from optimum's quantisers, which need the onnx/openvino backends and a
            quality check against fp32; see :data:`INT8_PROBLEM`).
    """
    if precision == "int8":
        raise BackendUnavailableError(INT8_PROBLEM)
    if not hasattr(encoder, "use_backend"):
        check_backend(backend)
        if backend not in ("auto", "torch"):
            raise BackendUnavailableError(
                f"--backend {backend} runs sentence-transformers models (st:, minilm); "
                f"{getattr(encoder, 'name', 'this encoder')!r} runs in torch: drop --backend"
            )
        return "torch"
    chosen, why = resolve_backend(backend)
    encoder.use_backend(chosen, why)
    return chosen


INT8_PROBLEM = (
    "--precision int8: int8 models are made by optimum's quantisers (sentence-transformers' "
    "export_dynamic_quantized_onnx_model / export_static_quantized_openvino_model) and are "
    "only offered with a measured quality check (mean cosine to fp32 >= 0.99, STS within "
    "0.5 points); optimum is not installable beside the installed transformers, so int8 "
    "is not available here: use --precision auto (bf16 where fast) or fp32"
)
