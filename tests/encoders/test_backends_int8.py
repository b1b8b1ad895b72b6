"""``--precision int8`` end to end, where sentence-transformers' onnx/openvino backends
install (``reprlearn[onnx]`` / ``reprlearn[openvino]``, each in an environment of its own:
optimum pins an older transformers than the dev install, so these skip there).

The real all-MiniLM-L6-v2 (``minilm``, bundled) on real MR sentences: the quantised model
is made by sentence-transformers' own quantiser, measured against fp32 and recorded."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reprlearn.encoders.backends import backend_problem


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRLEARN_CACHE", str(tmp_path / "cache"))


def _skip_without(backend: str) -> None:
    if problem := backend_problem(backend):
        pytest.skip(problem)


def _embed(run_main, capsys, monkeypatch, src, out, *extra):
    argv = ["embed", str(src), "-e", "minilm", "-o", str(out), "--json", *extra]
    return run_main(argv, capsys, monkeypatch)


@pytest.fixture
def mr_file(tmp_path, mr):
    src = tmp_path / "mr.txt"
    src.write_text("\n".join(mr.select(range(0, 10_000, 125))["text"]) + "\n")  # 80 texts
    return src


def _check_int8_store(out, backend):
    from reprlearn.store import EmbeddingStore

    manifest = json.loads((out / "manifest.json").read_text())
    run = manifest["encoder"]["backend_run"]
    assert manifest["precision"] == "int8" and manifest["encoder"]["backend"] == backend
    assert run["precision"] == "int8" and run["int8_check"]["passed"] is True
    check = run["int8_check"]
    assert check["mean_cosine"] >= check["thresholds"]["mean_cosine"]
    assert check["pair_spearman"] >= check["thresholds"]["pair_spearman"]
    return EmbeddingStore.open(out).to_numpy()[0], run


def test_onnx_int8_cli_is_measured_then_kept_or_refused(
    mr_file, tmp_path, capsys, monkeypatch, run_main
):
    """ONNX Runtime's dynamic int8 of MiniLM measures mean cosine ~0.991 but pair Spearman
    ~99.0 to fp32 on MR (optimum-onnx 0.1): whichever way the gate goes, the user sees the
    measured numbers, never silently worse vectors."""
    _skip_without("onnx")
    code, out_text, err = _embed(run_main, capsys, monkeypatch, mr_file, tmp_path / "s",
                                 "--backend", "onnx", "--precision", "int8")  # fmt: skip
    text = out_text + err
    if code == 0:
        _check_int8_store(tmp_path / "s", "onnx")
    else:
        assert code == 2 and "measured on 80 of your texts, mean cosine to fp32 0.9" in text
        assert "Traceback" not in text


def test_onnx_int8_recorded_and_export_cached(
    mr_file, tmp_path, capsys, monkeypatch, run_main, cosine_rows
):
    """The path of an int8 model that passes (thresholds lowered to what ONNX dynamic int8
    measures, to test the recording): manifest, vectors, auto's choice, one export."""
    _skip_without("onnx")
    from reprlearn.embed import encode_items
    from reprlearn.encoders import int8_quality

    monkeypatch.setattr(int8_quality, "MIN_MEAN_COSINE", 0.98)
    monkeypatch.setattr(int8_quality, "MAX_SPEARMAN_LOSS", 3.0)
    code, out_text, err = _embed(run_main, capsys, monkeypatch, mr_file, tmp_path / "s",
                                 "--backend", "onnx", "--precision", "int8")  # fmt: skip
    assert code == 0, out_text + err
    X, run = _check_int8_store(tmp_path / "s", "onnx")
    assert run["quantization"].startswith("dynamic ") and run["file"].startswith("onnx/model_qint8")
    assert run["int8_check"]["thresholds"] == {"mean_cosine": 0.98, "pair_spearman": 97.0}
    texts = mr_file.read_text().splitlines()
    ref = encode_items("minilm", texts, precision="fp32", backend="torch")
    assert cosine_rows(X, ref).mean() >= 0.98
    monkeypatch.setattr("reprlearn.encoders.backends.INT8_ORDER", ("onnx", "openvino"))
    code, out_text, err = _embed(run_main, capsys, monkeypatch, mr_file, tmp_path / "s2",
                                 "--precision", "int8")  # fmt: skip
    assert code == 0, out_text + err
    choice = json.loads((tmp_path / "s2" / "manifest.json").read_text())["encoder"]
    assert choice["backend_choice"].startswith("auto picked onnx, the int8 backend")
    assert len(list((tmp_path / "cache" / "exported").iterdir())) == 1


def test_int8_that_fails_the_gate_is_a_one_line_error(
    mr_file, tmp_path, capsys, monkeypatch, run_main
):
    _skip_without("onnx")
    from reprlearn.encoders import int8_quality

    monkeypatch.setattr(int8_quality, "MIN_MEAN_COSINE", 0.99999)
    code, out_text, err = _embed(run_main, capsys, monkeypatch, mr_file, tmp_path / "s",
                                 "--backend", "onnx", "--precision", "int8")  # fmt: skip
    text = out_text + err
    assert code == 2 and "too far from fp32" in text and "Traceback" not in text
    assert "--precision fp32" in text


def test_fp32_only_dtypes_on_exported_backends(mr_file, tmp_path, capsys, monkeypatch, run_main):
    _skip_without("onnx")
    code, out_text, err = _embed(run_main, capsys, monkeypatch, mr_file, tmp_path / "s",
                                 "--backend", "onnx", "--precision", "bf16")  # fmt: skip
    assert code == 2 and "runs fp32 or int8 models" in out_text + err
    code, out_text, err = _embed(run_main, capsys, monkeypatch, mr_file, tmp_path / "s",
                                 "--backend", "onnx")  # fmt: skip
    assert code == 0, out_text + err
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["precision"] == "fp32"  # what onnx ran, not the bf16 auto would pick


@pytest.mark.slow  # OpenVINO's static quantisation calibrates on 80 texts padded to 384 tokens
def test_openvino_int8_cli_is_checked_and_recorded(
    mr_file, tmp_path, capsys, monkeypatch, run_main
):
    _skip_without("openvino")
    code, out_text, err = _embed(run_main, capsys, monkeypatch, mr_file, tmp_path / "s",
                                 "--backend", "openvino", "--precision", "int8")  # fmt: skip
    assert code == 0, out_text + err
    X, run = _check_int8_store(tmp_path / "s", "openvino")
    assert run["int8_check"]["thresholds"] == {"mean_cosine": 0.99, "pair_spearman": 99.5}
    assert run["quantization"] == "static, 80 texts"
    assert np.isfinite(X).all()
