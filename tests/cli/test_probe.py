import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

import reprlearn.cli
from reprlearn.cli.app import app
from reprlearn.store import StoreWriter

reprlearn.cli._register_commands()
runner = CliRunner()


def write_store(path: Path, X, y, encoder="pixels"):
    header = {
        "encoder_name": encoder,
        "source_fingerprint": "t",
        "normalized": False,
        "precision": "fp32",
        "shard_size": 4096,
        "dim": X.shape[1],
        "label_names": None if y is None else [f"digit {i}" for i in range(10)],
    }
    w = StoreWriter(path, header)
    w.write_shard(0, np.arange(len(X)), X, y, [])
    return w.finish({"source": {"spec": {"source": "digits"}, "num_rows": len(X)}})


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)
    root = tmp_path_factory.mktemp("stores")
    return {
        "train": write_store(root / "train", X[:1300], y[:1300]).path,
        "test": write_store(root / "test", X[1300:], y[1300:]).path,
        "other": write_store(root / "other", X[1300:], y[1300:], encoder="pca:8").path,
        "nolabels": write_store(root / "nolabels", X[:40], None).path,
    }


def test_probe_json_and_out_folder(stores, tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        ["probe", str(stores["train"]), "--test", str(stores["test"]), "--out", str(out), "--json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    linear = payload["protocols"]["linear"]
    assert linear["accuracy"]["value"] > 0.9 and linear["n_test"] == 1797 - 1300
    assert payload["test_store"] == str(stores["test"])
    assert json.loads((out / "probe.json").read_text()) == payload
    assert (out / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "confusion.csv").is_file() and (out / "per_class_accuracy.csv").is_file()


def test_probe_table_for_knn(stores):
    result = runner.invoke(app, ["probe", str(stores["train"]), "--protocol", "knn", "--k", "10"])
    assert result.exit_code == 0, result.output
    assert "accuracy (k=10)" in result.output and "probe: pixels" in result.output


def test_probe_errors_exit_2_with_a_message(stores):
    result = runner.invoke(app, ["probe", str(stores["nolabels"])])
    assert result.exit_code == 2 and "no labels" in result.output
    result = runner.invoke(app, ["probe", str(stores["train"]), "--test", str(stores["other"])])
    assert result.exit_code == 2 and "different encoders" in result.output
    result = runner.invoke(app, ["probe", str(stores["train"]), "--protocol", "svm"])
    assert result.exit_code == 2 and "unknown protocol" in result.output


def test_factors_flag_calls_probe_factors(stores, monkeypatch):
    calls = []

    class Fake:
        def to_dict(self):
            return {"factors": {"shape": 0.9}}

        def table(self):
            from rich.table import Table

            return Table(title="factors")

    fake = types.ModuleType("reprlearn.evaluation.factors")
    fake.probe_factors = lambda store, **kw: calls.append((store, kw)) or Fake()
    monkeypatch.setitem(sys.modules, "reprlearn.evaluation.factors", fake)
    result = runner.invoke(
        app, ["probe", str(stores["train"]), "--factors", "--seed", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"factors": {"shape": 0.9}}
    assert calls == [(stores["train"], {"seed": 3})]


def test_probe_factors_on_a_real_shapes_store(tmp_path):
    """`reprlearn probe STORE --factors` end to end: shapes -> pca store -> factor table."""
    import json

    from typer.testing import CliRunner

    from reprlearn.cli import _register_commands, app
    from reprlearn.data import load_dataset
    from reprlearn.embed import embed

    _register_commands()
    embed(load_dataset("shapes:400"), "pca:8", tmp_path / "s", progress=False)
    res = CliRunner().invoke(app, ["probe", str(tmp_path / "s"), "--factors", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert "color" in json.dumps(report) and "x" in json.dumps(report)


def test_k_larger_than_the_data_is_a_clear_error(stores):
    result = runner.invoke(app, ["probe", str(stores["train"]), "-p", "knn", "--k", "100000"])
    assert result.exit_code == 2
    assert "--k 100000 is more than the 1040 training items" in result.output
    assert "Traceback" not in result.output


def test_test_store_output_says_what_kmeans_and_logme_measure(stores):
    args = ["probe", str(stores["train"]), "--test", str(stores["test"]), "-p", "linear,kmeans"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "test store" in result.output and "label-free" in result.output
