"""CSV files safe to open in a spreadsheet (OWASP CSV injection), written atomically."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from reprlearn.tables import safe_csv_cell, write_csv

FORMULA = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (FORMULA, "'" + FORMULA),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("-1e-5", "-1e-5"),
        ("cat", "cat"),
        ("", ""),
        (-1.5, -1.5),
        (None, None),
    ],
)
def test_safe_csv_cell(value, expected):
    assert safe_csv_cell(value) == expected


def _read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_write_csv_dicts_lists_and_dataframe(tmp_path):
    rows = [{"label": FORMULA, "score": -0.5, "extra": 1}, {"label": "dog", "score": 0.25}]
    write_csv(rows, tmp_path / "a.csv", fieldnames=["label", "score"])
    assert _read(tmp_path / "a.csv") == [
        ["label", "score"],
        ["'" + FORMULA, "-0.5"],
        ["dog", "0.25"],
    ]
    write_csv([["name", "x"], ["=1+1", "-3"]], tmp_path / "b.csv")
    assert _read(tmp_path / "b.csv") == [["name", "x"], ["'=1+1", "-3"]]
    df = pd.DataFrame({"label": ["@cmd", "ok"], "n": np.array([1, 2])})
    write_csv(df, tmp_path / "c.csv")
    assert _read(tmp_path / "c.csv") == [["label", "n"], ["'@cmd", "1"], ["ok", "2"]]
    write_csv([], tmp_path / "d.csv", fieldnames=["a"])
    assert _read(tmp_path / "d.csv") == [["a"]]


def test_write_csv_is_atomic_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("old\n")

    def rows():
        yield {"a": "1"}
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_csv(rows(), path)
    assert path.read_text() == "old\n"  # never half a file
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]


def test_inspect_neighbors_csv_neutralises_formula_labels(tmp_path):
    from reprlearn.analysis.inspect import inspect
    from reprlearn.store import StoreWriter

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, (20, 8)), rng.normal(5, 1, (20, 8))]).astype(np.float32)
    y = np.repeat([0, 1], 20)
    header = {
        "encoder_name": "pixels",
        "dim": 8,
        "label_names": [FORMULA, "-cmd|' /C calc'!A0"],
        "source": {"spec": {"source": "x"}, "fingerprint": "t", "num_rows": 40},
        "normalized": False,
        "precision": "fp32",
        "shard_size": 40,
    }
    writer = StoreWriter(tmp_path / "store", header)
    writer.write_shard(0, np.arange(40), X, y, [])
    store = writer.finish({})
    inspect(store, out=tmp_path / "inspect", sample=6)
    text = (tmp_path / "inspect" / "neighbors.csv").read_text()
    cells = [c for row in _read(tmp_path / "inspect" / "neighbors.csv") for c in row]
    assert "'" + FORMULA in cells
    assert not any(c.startswith(("=", "@")) for c in cells)
    assert not any(c.startswith("-c") for c in cells)
    assert "HYPERLINK" in text
