"""duplicates (groups above a cosine threshold) and leakage (--against) with the probe."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from reprlearn.cli import _register_commands, app
from reprlearn.errors import StoreError
from reprlearn.search.duplicates import find_duplicates
from reprlearn.search.leakage import find_leakage
from reprlearn.store import StoreWriter

runner = CliRunner()
_register_commands()


def _store(path, X, y, name="synthetic"):
    header = {
        "encoder_name": name,
        "normalized": False,
        "shard_size": 100,
        "label_names": ["a", "b"],
    }
    w = StoreWriter(path, header)
    for i, lo in enumerate(range(0, len(X), 100)):
        ids = np.arange(lo, min(len(X), lo + 100))
        w.write_shard(i, ids, X[ids], y[ids], [])
    return w.finish(
        {"dim": X.shape[1], "encoder": {"name": name, "modality": "text", "dim": X.shape[1]}}
    )


@pytest.fixture()
def train_test(tmp_path):
    """Two noisy classes; 10 of the 60 test items are copies (+ tiny noise) of training
    items whose label is flipped in training (so leakage changes the probe's score)."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    X = (rng.normal(size=(300, 16)) + 1.2 * y[:, None]).astype(np.float32)
    yt = rng.integers(0, 2, 60)
    Xt = (rng.normal(size=(60, 16)) + 1.2 * yt[:, None]).astype(np.float32)
    Xt[:10] = X[:10] + 1e-3 * rng.normal(size=(10, 16)).astype(np.float32)
    yt[:10] = y[:10]
    X[300 - 3 :] = X[0]  # an exact duplicate group of 4 in training: ids 0, 297, 298, 299
    y[300 - 3 :] = y[0]
    return _store(tmp_path / "train", X, y), _store(tmp_path / "test", Xt, yt)


def test_duplicate_groups_csv_and_sheet(train_test, tmp_path):
    train, _ = train_test
    result = find_duplicates(train, tmp_path / "dups", threshold=0.999)
    exact = [g for g in result.groups if g["kind"] == "exact"]
    assert exact and exact[0]["ids"] == [0, 297, 298, 299]
    assert result.num_duplicates >= 3
    rows = list(csv.DictReader((tmp_path / "dups" / "duplicates.csv").read_text().splitlines()))
    assert {r["id"] for r in rows if r["group"] == "1"} == {"0", "297", "298", "299"}
    assert Image.open(tmp_path / "dups" / "duplicates.png").size[0] > 100
    assert json.loads((tmp_path / "dups" / "duplicates.json").read_text())["num_groups"] >= 1


def test_leakage_finds_the_copies_and_scores_the_probe(train_test, tmp_path):
    train, test = train_test
    leak = find_leakage(train, test, tmp_path / "leak", threshold=0.99)
    assert {p["other_id"] for p in leak.pairs} == set(range(10))
    assert all(p["store_id"] == p["other_id"] for p in leak.pairs)
    assert leak.accuracy_all is not None and leak.accuracy_clean is not None
    rows = list(csv.DictReader((tmp_path / "leak" / "leakage.csv").read_text().splitlines()))
    assert len(rows) == 10 and rows[0]["other_label"] in {"a", "b"}
    assert (tmp_path / "leak" / "leakage.png").is_file()


def test_leakage_refuses_stores_of_other_spaces(train_test, tmp_path):
    train, _ = train_test
    rng = np.random.default_rng(1)
    other = _store(
        tmp_path / "other",
        rng.normal(size=(50, 16)).astype(np.float32),
        np.zeros(50, int),
        "other-encoder",
    )
    with pytest.raises(StoreError, match="different encoders"):
        find_leakage(train, other)


def test_cli_duplicates_and_against(train_test, tmp_path):
    train, test = train_test
    res = runner.invoke(
        app, ["duplicates", str(train.path), "--threshold", "0.999", "--out", str(tmp_path / "d")]
    )
    assert res.exit_code == 0, res.output
    assert "1 exact" in res.output
    res = runner.invoke(
        app,
        [
            "duplicates",
            str(train.path),
            "--against",
            str(test.path),
            "--threshold",
            "0.99",
            "--out",
            str(tmp_path / "l"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "10 of 60 items" in res.output and "without them" in res.output
    res = runner.invoke(
        app, ["duplicates", str(train.path), "--threshold", "1.5", "--out", str(tmp_path / "x")]
    )
    assert res.exit_code == 2 or "must be a cosine" in str(res.exception)


def test_a_chain_of_near_copies_does_not_become_one_group(tmp_path):
    """Points 10 degrees apart on an arc: neighbours are duplicates (cos 10deg = 0.985 >=
    0.98), the ends are not (cos 50deg = 0.64); connected components would make one group
    of 6, representative groups keep every member a duplicate of its representative."""
    angles = np.radians(np.arange(0, 60, 10))
    X = np.stack([np.cos(angles), np.sin(angles)], 1).astype(np.float32)
    X = np.concatenate([X, -X[:1]])  # and one unrelated point
    store = _store(tmp_path / "arc", X, np.zeros(len(X), int))
    result = find_duplicates(store, threshold=0.98, k=3)
    sizes = sorted(len(g["ids"]) for g in result.groups)
    assert max(sizes) <= 2 and sum(sizes) >= 4
    for g in result.groups:  # every member within 10 degrees of its group's representative
        rep = g["ids"][0]
        assert all(abs(i - rep) <= 1 for i in g["ids"])
