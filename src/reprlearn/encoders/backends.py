"""Inference backends of ``st:`` encoders: ``--backend auto|torch|onnx|openvino``, and
``--precision int8``.

``torch`` runs the model in PyTorch (bf16 weights where the hardware has them, see
:func:`reprlearn.device.resolve_precision`). ``onnx`` and ``openvino`` are
sentence-transformers' own backends (``SentenceTransformer(NAME, backend=...)``), which
export a local model through Hugging Face ``optimum`` (``optimum-onnx`` /
``optimum-intel``); reprlearn writes no exporter of its own, and caches the export
(:mod:`reprlearn.encoders.export_cache`). They run fp32 or, with ``--precision int8``,
the model quantised by sentence-transformers' quantisers, used only when it passes the
quality gate of :mod:`reprlearn.encoders.int8_quality` on the user's texts.

optimum does not install beside transformers 5 (optimum-onnx 0.1 pins transformers<4.58,
optimum-intel 2.2 transformers<5.6 and optimum 2.3, which optimum-onnx refuses), so each
backend installs in an environment of its own: ``pip install "reprlearn[onnx]"`` or
``pip install "reprlearn[openvino]"``. Where one is missing or does not import, choosing
it raises :class:`BackendUnavailableError` saying why and what to install.

``auto`` picks the fastest backend measured on this kind of machine
(``benchmarks/embed_text.py``) among those installed, and says what it picked (the
manifest's ``encoder.backend`` and ``encoder.backend_choice``).
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
from collections.abc import Callable
from typing import Any

from reprlearn.errors import ReprlearnError

BACKENDS = ("auto", "torch", "onnx", "openvino")
# Fastest first, as measured by benchmarks/embed_text.py on a 2-core AMX CPU shared with
# other jobs (load 5-9; MiniLM, 500 texts per set, sentences/s medians of 3 rounds):
# reprlearn torch bf16 vs reprlearn on OpenVINO fp32: TREC 442 vs 398, SST2 364 vs 375,
# MR 473 vs 430, SUBJ 237 vs 180 (openvino environment); vs on ONNX Runtime fp32: TREC 225
# vs 92, SST2 380 vs 112, MR 211 vs 51, SUBJ 288 vs 65 (onnx environment).
SPEED_ORDER = ("torch", "openvino", "onnx")
# --precision int8 (same runs): OpenVINO's static int8 passes the quality gate (TREC: mean
# cosine 0.9985, pair Spearman 99.81); ONNX Runtime's dynamic int8 fails it on all four sets
# (mean cosine 0.990-0.994, pair Spearman 98.6-99.1), so it ranks last.
INT8_ORDER = ("openvino", "onnx")
# what each backend runs: torch any torch dtype; onnx/openvino their exported fp32 model,
# or int8
RUNS = {"onnx": ("fp32", "int8"), "openvino": ("fp32", "int8")}
_NEEDS = {
    "onnx": (("optimum.onnxruntime", "optimum.exporters.onnx"), "onnx"),
    "openvino": (("optimum.intel",), "openvino"),
}


class BackendUnavailableError(ReprlearnError, ValueError):
    """A ``--backend`` (or ``--precision int8``) that this installation cannot run."""


def _install_hint(extra: str) -> str:
    return (
        f'install it in an environment of its own: pip install "reprlearn[{extra}]" '
        "(optimum pins an older transformers than reprlearn's dev install)"
    )


@functools.cache
def backend_problem(backend: str) -> str | None:
    """Why ``backend`` cannot run here, or None when it can (its optimum modules import)."""
    if backend == "torch":
        return None
    modules, extra = _NEEDS[backend]
    try:
        found = importlib.util.find_spec(modules[0].split(".")[0]) is not None
        found = found and importlib.util.find_spec(modules[0]) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return (
            f"sentence-transformers' {backend} backend needs Hugging Face optimum "
            f"({'optimum-onnx[onnxruntime]' if backend == 'onnx' else 'optimum-intel[openvino]'}),"
            f" which is not installed; {_install_hint(extra)}"
        )
    try:
        for module in modules:
            importlib.import_module(module)
    except Exception as e:  # noqa: BLE001 - an optimum that does not fit this transformers
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        return (
            f"optimum for the {backend} backend is installed but does not import with "
            f"transformers {_version('transformers')} ({first}); {_install_hint(extra)}"
        )
    return None


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


def _check_precision(backend: str, precision: str) -> None:
    if precision == "int8" and backend == "torch":
        raise BackendUnavailableError(
            "--precision int8 runs on --backend onnx or openvino (sentence-transformers' "
            "quantised models), not torch: use --backend auto, onnx or openvino, or "
            "--precision auto (bf16 where fast)"
        )
    if backend in RUNS and precision not in ("auto", *RUNS[backend]):
        raise BackendUnavailableError(
            f"--backend {backend} runs fp32 or int8 models, not --precision {precision}: use "
            f"--precision fp32 (or auto) or int8, or --backend torch for {precision}"
        )


def resolve_backend(backend: str, precision: str = "auto") -> tuple[str, str]:
    """``backend`` (+ ``precision``) -> (the backend to run, a sentence saying why).

    ``auto``: the first installed backend of :data:`SPEED_ORDER` (:data:`INT8_ORDER` for
    ``precision="int8"``), a ranking measured once by ``benchmarks/embed_text.py`` on a
    2-core AMX CPU (nothing is timed at run time); the sentence names each other backend
    as ranked slower or not installed.

    Raises:
        BackendUnavailableError: an unknown backend, one that is not installed, int8 on
            torch, a torch dtype (bf16/fp16) on onnx/openvino, or int8 with neither
            onnx nor openvino installed.
    """
    check_backend(backend)
    if backend != "auto":
        _check_precision(backend, precision)
        return backend, f"{backend}: asked for"
    order = INT8_ORDER if precision == "int8" else SPEED_ORDER
    installed = [b for b in order if backend_problem(b) is None]
    if installed:
        candidate = installed[0]
        others = [
            f"{b}: {'ranked slower' if b in installed else 'not installed'}"
            for b in order
            if b != candidate
        ]
        what = "int8 backend" if precision == "int8" else "fastest backend"
        return candidate, (
            f"auto picked {candidate}, the {what} installed here by the ranking of "
            f"benchmarks/embed_text.py on a CPU ({'; '.join(others)})"
        )
    why_not = "; ".join(f"{b}: {backend_problem(b)}" for b in order)
    raise BackendUnavailableError(
        "--precision int8 runs on sentence-transformers' onnx or openvino backend (a "
        "quantised model, kept only when it measures mean cosine to fp32 >= 0.99 on your "
        f"texts), and neither runs here ({why_not}); or use --precision auto (bf16 where "
        "fast) or fp32"
    )


def choose_backend(
    encoder: Any,
    backend: str,
    precision: str,
    sample_texts: Callable[[], list[str]] | None = None,
) -> tuple[str, str | None]:
    """Put ``encoder`` on the backend ``backend`` resolves to.

    ``st:`` encoders switch through ``use_backend`` (sentence-transformers' backends);
    other encoders run in torch (or are not neural), so only ``auto``/``torch`` fit them.
    ``sample_texts()`` gives the texts int8 is calibrated (OpenVINO) and checked on.

    Returns:
        (the backend, the precision it runs: ``fp32``/``int8`` for onnx/openvino, None for
        torch, whose dtype :func:`reprlearn.device.resolve_precision` decides).

    Raises:
        BackendUnavailableError: see :func:`resolve_backend`; ``onnx``/``openvino`` or
            ``int8`` for an encoder that is not ``st:``.
        Int8QualityError: the int8 model measured too far from fp32
            (:mod:`reprlearn.encoders.int8_quality`).
    """
    if not hasattr(encoder, "use_backend"):
        check_backend(backend)
        name = getattr(encoder, "name", "this encoder")
        if backend not in ("auto", "torch") or precision == "int8":
            asked = (
                f"--backend {backend}" if backend not in ("auto", "torch") else "--precision int8"
            )
            raise BackendUnavailableError(
                f"{asked} runs sentence-transformers models (st:, minilm) on onnx/openvino; "
                f"{name!r} runs in torch: drop {asked.split()[0]}"
            )
        return "torch", None
    chosen, why = resolve_backend(backend, precision)
    runs = None if chosen == "torch" else ("int8" if precision == "int8" else "fp32")
    texts = sample_texts() if runs == "int8" and sample_texts is not None else None
    encoder.use_backend(chosen, why, precision=runs or "fp32", check_texts=texts)
    return chosen, runs
