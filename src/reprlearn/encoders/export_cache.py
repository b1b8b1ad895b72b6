"""Exported (and int8-quantised) sentence-transformers models for ``--backend onnx|openvino``,
built once and cached.

``SentenceTransformer(NAME, backend="onnx"|"openvino")`` exports the model through Hugging
Face optimum at every load (about 4 s for all-MiniLM-L6-v2 to ONNX, 10 s to OpenVINO on
2 cores). :func:`exported_model` does it once, saves the result with
``SentenceTransformer.save`` into :func:`reprlearn.words.distill.cache_dir` ``/exported/``
and loads it from there afterwards. ``precision="int8"`` adds the quantised file made by
sentence-transformers' own quantisers (reprlearn writes no exporter):

* ONNX: ``export_dynamic_quantized_onnx_model`` (ONNX Runtime dynamic quantisation,
  no calibration data), configuration ``avx512_vnni`` / ``avx2`` / ``arm64`` for the CPU;
* OpenVINO: ``export_static_quantized_openvino_model`` (NNCF post-training static
  quantisation), calibrated on up to 300 of the user's own texts (sentence-transformers'
  default count), written to a local Parquet file so nothing is downloaded.

A cache entry is keyed by the model's weights fingerprint (or hub id), the backend, the
precision, the optimum/runtime versions and (OpenVINO int8) the calibration texts; it is
written to a temporary folder and renamed into place, so an interrupted export never
leaves a half-written model behind.

Source: sentence-transformers, "Speeding up Inference"
(sbert.net/docs/sentence_transformer/usage/efficiency.html).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

_RUNTIME = {"onnx": ("optimum-onnx", "onnxruntime"), "openvino": ("optimum-intel", "openvino")}
INT8_FILE = {
    "onnx": "onnx/model_qint8_{config}.onnx",
    "openvino": "openvino/openvino_model_qint8_quantized.xml",
}
MARKER = "reprlearn-export.json"
CALIBRATION_SAMPLES = 300  # export_static_quantized_openvino_model's default num_samples


def onnx_quantization_config() -> str:
    """sentence-transformers' dynamic-quantisation preset for this CPU: ``arm64`` on ARM,
    ``avx512_vnni`` where the CPU has AVX512-VNNI, else ``avx2``."""
    if platform.machine().lower() in ("arm64", "aarch64"):
        return "arm64"
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "avx2"
    return "avx512_vnni" if "avx512_vnni" in text else "avx2"


def _versions(backend: str) -> dict[str, str]:
    names = ("optimum", *_RUNTIME[backend], "transformers", "sentence-transformers")
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _key(source: str, backend: str, precision: str, calibration: list[str] | None) -> str:
    from reprlearn.encoders.fingerprint import weights_fingerprint

    parts = {
        "weights": weights_fingerprint(f"st:{source}") or source,
        "backend": backend,
        "precision": precision,
        "versions": _versions(backend),
        "calibration": calibration if backend == "openvino" and precision == "int8" else None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def exported_model(
    source: str, backend: str, precision: str = "fp32", calibration: list[str] | None = None
) -> tuple[Any, dict[str, Any]]:
    """Load ``source`` on ``backend`` at ``precision`` from the cache, exporting it first.

    Args:
        source: a local sentence-transformers folder or a hub id (as ``st:`` takes).
        backend: ``onnx`` or ``openvino``.
        precision: ``fp32`` (the exported model) or ``int8`` (quantised, see the module).
        calibration: texts for OpenVINO's static int8 calibration (the first 300 are used);
            needed for ``openvino`` + ``int8``.

    Returns:
        (the ``SentenceTransformer`` on the CPU, facts for the manifest: ``file``,
        ``cache`` folder, ``quantization`` preset or calibration count, versions).
    """
    from sentence_transformers import SentenceTransformer

    from reprlearn.words.distill import cache_dir

    calibration = list(calibration or [])[:CALIBRATION_SAMPLES]
    name = Path(source.rstrip("/")).name or "model"
    folder = cache_dir() / "exported" / f"{name}-{backend}-{precision}-"
    folder = folder.with_name(folder.name + _key(source, backend, precision, calibration))
    if not (folder / MARKER).is_file():
        _build(source, backend, precision, calibration, folder)
    facts = json.loads((folder / MARKER).read_text())
    kwargs = {"model_kwargs": {"file_name": facts["file"]}} if precision == "int8" else {}
    model = SentenceTransformer(str(folder), backend=backend, device="cpu", **kwargs)
    return model, {**facts, "cache": str(folder)}


def _build(source: str, backend: str, precision: str, calibration: list[str], folder: Path) -> None:
    """Export (+ quantise) into ``folder.tmp-PID``, then rename it to ``folder``."""
    from sentence_transformers import SentenceTransformer

    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model = SentenceTransformer(source, backend=backend, device="cpu")  # optimum exports
        model.save(str(tmp))
        facts: dict[str, Any] = {"backend": backend, "precision": precision, "file": None}
        if precision == "int8":  # NNCF's progress bars go to stderr, not into --json output
            with contextlib.redirect_stdout(sys.stderr):
                facts.update(_quantize(model, backend, tmp, calibration))
        facts["versions"] = _versions(backend)
        (tmp / MARKER).write_text(json.dumps(facts, indent=2))
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process finished the same export first
            if not (folder / MARKER).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _quantize(model: Any, backend: str, folder: Path, calibration: list[str]) -> dict[str, Any]:
    """Write the int8 file into ``folder`` with sentence-transformers' quantiser."""
    if backend == "onnx":
        from sentence_transformers import export_dynamic_quantized_onnx_model

        config = onnx_quantization_config()
        export_dynamic_quantized_onnx_model(model, config, str(folder))
        return {
            "file": INT8_FILE["onnx"].format(config=config),
            "quantization": f"dynamic {config}",
        }
    import datasets
    from optimum.intel import OVQuantizationConfig
    from sentence_transformers import export_static_quantized_openvino_model

    if not calibration:
        raise ValueError("OpenVINO int8 needs calibration texts")
    data = folder / "calibration"
    data.mkdir()
    datasets.Dataset.from_dict({"text": calibration}).to_parquet(str(data / "train.parquet"))
    export_static_quantized_openvino_model(
        model,
        OVQuantizationConfig(num_samples=len(calibration)),
        str(folder),
        dataset_name=str(data),
        dataset_config_name="default",
        dataset_split="train",
        column_name="text",
    )
    shutil.rmtree(data)
    return {"file": INT8_FILE["openvino"], "quantization": f"static, {len(calibration)} texts"}
