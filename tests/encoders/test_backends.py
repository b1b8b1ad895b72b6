"""``--backend auto|torch|onnx|openvino`` and ``--precision int8``
(:mod:`reprlearn.encoders.backends`): what runs, what the manifest records, and the
errors where optimum (sentence-transformers' export path) is not installable."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from reprlearn.encoders import load_encoder
from reprlearn.encoders.backends import (
    BackendUnavailableError,
    backend_problem,
    resolve_backend,
)

HAS_OPTIMUM = importlib.util.find_spec("optimum") is not None


@pytest.fixture
def tiny_st(tmp_path, tiny_bert):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    model = SentenceTransformer(
        modules=[Transformer(str(tiny_bert), max_seq_length=48), Pooling(32, "mean"), Normalize()],
        device="cpu",
    )
    model.save(str(tmp_path / "tiny-st"))
    return tmp_path / "tiny-st"


def test_auto_picks_an_installed_backend_and_says_why():
    chosen, why = resolve_backend("auto")
    assert backend_problem(chosen) is None
    assert why.startswith(f"auto picked {chosen}")
    for other in {"torch", "onnx", "openvino"} - {chosen}:  # never "measured" when absent
        assert f"{other}: not installed" in why or backend_problem(other) is None
    assert resolve_backend("torch") == ("torch", "torch: asked for")


def test_auto_skips_backends_that_are_not_installed(monkeypatch):
    from reprlearn.encoders import backends

    monkeypatch.setattr(backends, "SPEED_ORDER", ("onnx", "torch"))
    monkeypatch.setattr(backends, "backend_problem", lambda b: None if b == "torch" else "no")
    assert resolve_backend("auto") == (
        "torch",
        "auto picked torch, the fastest backend installed here by the ranking of "
        "benchmarks/embed_text.py on a CPU (onnx: not installed)",
    )


@pytest.mark.skipif(HAS_OPTIMUM, reason="optimum is installed: the backend can run")
@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_uninstallable_backend_is_a_clear_error(backend, tiny_st, mr_sentences):
    from reprlearn.embed import encode_items

    with pytest.raises(BackendUnavailableError, match="optimum.*--backend torch"):
        encode_items(f"st:{tiny_st}", mr_sentences[:2], backend=backend)


def test_unknown_backend_and_non_st_encoder_are_refused(digit_images):
    from reprlearn.embed import encode_items

    with pytest.raises(BackendUnavailableError, match="not a backend; choose one of"):
        encode_items("pixels", digit_images, backend="tensorrt")
    if backend_problem("onnx") is None:
        pytest.skip("onnx installed")
    with pytest.raises(BackendUnavailableError):
        encode_items("pixels", digit_images, backend="onnx")
    assert encode_items("pixels", digit_images, backend="torch").shape == (len(digit_images), 64)


@pytest.mark.skipif(HAS_OPTIMUM, reason="optimum is installed: int8 can run")
def test_int8_without_onnx_or_openvino_is_a_clear_error(tiny_st, mr_sentences):
    from reprlearn.embed import encode_items

    with pytest.raises(BackendUnavailableError, match=r"mean cosine to fp32 >= 0.99.*onnx: "):
        encode_items(f"st:{tiny_st}", mr_sentences[:2], precision="int8")


def test_int8_and_torch_dtypes_go_to_the_backends_that_run_them(monkeypatch, digit_images):
    from reprlearn.embed import encode_items
    from reprlearn.encoders import backends

    monkeypatch.setattr(backends, "backend_problem", lambda b: None if b != "openvino" else "no")
    with pytest.raises(BackendUnavailableError, match="int8 runs on --backend onnx or openvino"):
        resolve_backend("torch", "int8")
    with pytest.raises(BackendUnavailableError, match="runs fp32 or int8 models, not --prec"):
        resolve_backend("onnx", "bf16")
    assert resolve_backend("auto", "int8") == (
        "onnx",
        "auto picked onnx, the int8 backend installed here by the ranking of "
        "benchmarks/embed_text.py on a CPU (openvino: not installed)",
    )
    assert resolve_backend("auto", "fp32")[0] == "torch"
    with pytest.raises(BackendUnavailableError, match="'pixels' runs in torch"):
        encode_items("pixels", digit_images, precision="int8")


def test_optimum_that_does_not_import_is_named(monkeypatch):
    """optimum-onnx installed beside transformers 5 imports with an ImportError: the
    backend is reported unavailable with that error and the install line, not a crash."""
    import importlib

    from reprlearn.encoders import backends

    def broken(name, *a, **k):
        raise ImportError("cannot import name 'get_parameter_dtype'")

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    monkeypatch.setattr(importlib, "import_module", broken)
    backends.backend_problem.cache_clear()
    try:
        problem = backends.backend_problem("onnx")
    finally:
        monkeypatch.undo()
        backends.backend_problem.cache_clear()
    assert "does not import with transformers" in problem
    assert "get_parameter_dtype" in problem and 'pip install "reprlearn[onnx]"' in problem


def test_cli_backend_torch_recorded_and_onnx_one_line_error(
    tiny_st, mr_sentences, tmp_path, capsys, monkeypatch, run_main
):
    src = tmp_path / "texts.txt"
    src.write_text("\n".join(mr_sentences[:12]) + "\n")
    out = tmp_path / "store"
    argv = ["embed", str(src), "-e", f"st:{tiny_st}", "-o", str(out), "--json"]
    code, out_text, err = run_main(
        [*argv, "--backend", "torch", "--precision", "fp32"], capsys, monkeypatch
    )
    assert code == 0, out_text + err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["encoder"]["backend"] == "torch"
    assert manifest["encoder"]["backend_choice"] == "torch: asked for"
    assert manifest["precision"] == "fp32"
    if HAS_OPTIMUM:
        return
    argv[5] = str(tmp_path / "o2")
    code, out_text, err = run_main([*argv, "--backend", "onnx"], capsys, monkeypatch)
    assert code == 2
    text = out_text + err
    assert "optimum" in text and "Traceback" not in text


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_exported_backend_matches_torch(backend, tiny_st, mr_sentences, cosine_rows, tmp_path,
                                        monkeypatch):  # fmt: skip
    """In an environment with ``reprlearn[onnx]`` / ``reprlearn[openvino]``: the exported
    fp32 model gives torch's vectors, and the export is cached (a second load reads it)."""
    if problem := backend_problem(backend):
        pytest.skip(problem)
    from reprlearn.embed import encode_items

    monkeypatch.setenv("REPRLEARN_CACHE", str(tmp_path / "cache"))
    ours = encode_items(f"st:{tiny_st}", mr_sentences, backend=backend)
    ref = encode_items(f"st:{tiny_st}", mr_sentences, backend="torch", precision="fp32")
    assert cosine_rows(ours, ref).min() >= 0.999
    assert np.isfinite(ours).all()
    facts = load_encoder(f"st:{tiny_st}", backend=backend).describe()
    assert facts["backend"] == backend and facts["backend_run"]["precision"] == "fp32"
    assert len(list((tmp_path / "cache" / "exported").iterdir())) == 1  # exported once


def test_every_int8_batch_is_spot_checked_against_fp32(tiny_st, mr_sentences):
    """A quantised model that is wrong at one batch shape (measured: OpenVINO's static
    int8 MiniLM on a 128 x 32-token MR batch, cosines 0.66-0.87) must not be written: the
    first and last text of each batch are compared with the fp32 model. Stand-in for the
    int8 model: the same encoder with re-initialised weights, checked against the saved
    fp32 weights."""
    import torch

    from reprlearn.encoders.int8_quality import Int8QualityError
    from reprlearn.encoders.sentence_transformers import _reinitialise

    enc = load_encoder(f"st:{tiny_st}")
    reference = load_encoder(f"st:{tiny_st}").model
    enc.backend_facts, enc._reference = {"precision": "int8"}, reference
    batch = enc.collate(mr_sentences[:6])
    with torch.inference_mode():
        enc.forward(batch)  # the same weights: passes, and is counted
        assert enc.backend_facts["int8_batches"] == {"checked": 1, "min_cosine": 1.0}
        _reinitialise(enc.model)
        with pytest.raises(Int8QualityError, match=r"a batch of 6 texts x \d+ tokens gave"):
            enc.forward(batch)
