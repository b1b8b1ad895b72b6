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
    assert resolve_backend("torch") == ("torch", "torch: asked for")


def test_auto_skips_backends_that_are_not_installed(monkeypatch):
    from reprlearn.encoders import backends

    monkeypatch.setattr(backends, "SPEED_ORDER", ("onnx", "torch"))
    monkeypatch.setattr(backends, "backend_problem", lambda b: None if b == "torch" else "no")
    assert resolve_backend("auto") == (
        "torch",
        "auto picked torch, the fastest measured here (onnx: not installed)",
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


def test_int8_needs_a_quality_checked_quantised_backend(tiny_st, mr_sentences):
    from reprlearn.embed import encode_items

    with pytest.raises(BackendUnavailableError, match="mean cosine to fp32 >= 0.99"):
        encode_items(f"st:{tiny_st}", mr_sentences[:2], precision="int8")


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


@pytest.mark.skipif(not HAS_OPTIMUM, reason="optimum (sentence-transformers' export) not installed")
def test_onnx_backend_matches_torch(tiny_st, mr_sentences, cosine_rows):
    from reprlearn.embed import encode_items

    ours = encode_items(f"st:{tiny_st}", mr_sentences, backend="onnx")
    ref = encode_items(f"st:{tiny_st}", mr_sentences, backend="torch", precision="fp32")
    assert cosine_rows(ours, ref).min() >= 0.999
    assert load_encoder(f"st:{tiny_st}", backend="onnx").describe()["backend"] == "onnx"
    assert np.isfinite(ours).all()
