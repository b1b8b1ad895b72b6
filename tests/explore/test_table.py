"""The explorer's Parquet table: embedding-atlas's neighbour form, kNN, clusters, agreement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reprlearn.errors import StoreError
from reprlearn.explore.launch import explore
from reprlearn.explore.table import build_table


def test_one_store_table_columns(two_stores, tmp_path):
    table = build_table([two_stores[0]], k=5)
    f = table.frame
    assert len(f) == 40 and table.modality == "text"
    for col in (
        "row",
        "id",
        "label",
        "text",
        "x",
        "y",
        "neighbors",
        "knn_prediction",
        "knn_correct",
        "cluster",
    ):
        assert col in f
    nb = f["neighbors"][0]
    assert set(nb) == {"ids", "distances"} and len(nb["ids"]) == 5
    assert 0 not in nb["ids"]  # an item is not its own neighbour
    assert np.all(np.diff(nb["distances"]) >= -1e-6)  # nearest first (distance = 1 - cosine)
    # "family number 3" is nearest to another "family" review
    row = int(f.index[f["text"] == "a warm funny film about family number 3"][0])
    first = f["neighbors"][row]["ids"][0]
    assert "family" in f["text"][first]
    assert f["knn_correct"].mean() > 0.8  # the two kinds of reviews are easy to tell apart
    path = table.to_parquet(tmp_path / "t.parquet")
    back = pd.read_parquet(path)
    assert list(back["neighbors"][0]["ids"]) == nb["ids"]


def test_two_stores_give_coordinates_and_agreement(two_stores):
    table = build_table(list(two_stores), k=5)
    f = table.frame
    a, b = table.names
    for col in (f"x_{a}", f"y_{a}", f"x_{b}", f"y_{b}", f"neighbors_{b}", "agreement"):
        assert col in f
    assert f["agreement"].between(0, 1).all()
    assert f["agreement"].min() < 1.0  # tf-idf and MiniLM disagree about some items


def test_stores_of_different_sources_are_refused(two_stores, tmp_path):
    import reprlearn

    other = reprlearn.embed(
        reprlearn.load_dataset("digits"), "pca:8", out=tmp_path / "d", progress=False
    )
    with pytest.raises(StoreError, match="same items"):
        build_table([two_stores[0], other.path])


def test_export_writes_a_site(two_stores, tmp_path):
    site = explore(list(two_stores), export=tmp_path / "site", k=5)
    for name in ("index.html", "explorer.js", "data.js", "table.parquet"):
        assert (site.site / name).is_file()
    html = (site.site / "index.html").read_text()
    assert "http" not in html.replace("http-equiv", "")  # no CDN: everything is local
    assert "window.REPRLEARN_EXPLORE" in (site.site / "data.js").read_text()
