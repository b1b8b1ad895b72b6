import json

import numpy as np
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from reprlearn.cli import _register_commands, app
from reprlearn.errors import StoreError
from reprlearn.store import StoreWriter

runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Pixel embeddings of the first 600 sklearn digits, source ``digits``."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:600].astype(np.float32), y[:600]
    header = {
        "encoder_name": "pixels",
        "dim": 64,
        "label_names": [str(i) for i in range(10)],
        "source": {"spec": {"source": "digits"}, "fingerprint": "t", "num_rows": 1797},
        "normalized": False,
        "precision": "fp32",
        "shard_size": 600,
    }
    path = tmp_path_factory.mktemp("cli") / "store"
    writer = StoreWriter(path, header)
    writer.write_shard(0, np.arange(600), X, y, [])
    writer.finish({})
    _register_commands()
    return path


def test_inspect_prints_table_and_verdict(store, tmp_path):
    result = runner.invoke(app, ["inspect", str(store), "--out", str(tmp_path), "--sample", "10"])
    assert result.exit_code == 0, result.output
    assert "Nearest neighbours" in result.output and "same label" in result.output
    assert "anisotropic: mean cosine" in result.output
    for name in ("similarity.png", "neighbors.csv", "map.png", "geometry.json", "inspect.json"):
        assert (tmp_path / name).is_file()
    assert len((tmp_path / "neighbors.csv").read_text().splitlines()) == 1 + 10 * 5


def test_inspect_json(store, tmp_path):
    result = runner.invoke(
        app, ["inspect", str(store), "--out", str(tmp_path), "--k", "3", "--sample", "6", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["k"] == 3 and len(data["sample_ids"]) == 6
    assert data["neighbor_label_agreement"] > 0.9
    assert data == json.loads((tmp_path / "inspect.json").read_text())


def test_inspect_not_a_store(tmp_path):
    result = runner.invoke(app, ["inspect", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code != 0
    assert isinstance(result.exception, StoreError)
    assert "not an embedding store" in str(result.exception)


def test_inspect_classes_seed_and_map_csv(store, tmp_path):
    args = ["inspect", str(store), "--out", str(tmp_path), "--sample", "6", "--json"]
    result = runner.invoke(app, [*args, "--classes", "3,7"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["classes"] == ["3", "7"] and len(data["sample_ids"]) == 6
    lines = (tmp_path / "map.csv").read_text().splitlines()
    assert lines[0] == "id,label,x,y" and len(lines) == 1 + 600
    other = runner.invoke(app, [*args, "--seed", "1", "--overwrite"])
    assert (
        json.loads(other.output)["classes"]
        != json.loads(runner.invoke(app, [*args, "--seed", "2", "--overwrite"]).output)["classes"]
    )
    bad = runner.invoke(app, [*args, "--classes", "11"])
    assert bad.exit_code != 0 and "not among the classes" in str(bad.exception)
