import csv
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from reprlearn.analysis.geometry import diagnose
from reprlearn.analysis.inspect import CSV_COLUMNS, inspect
from reprlearn.data import load_dataset
from reprlearn.errors import DataError

FILES = {"similarity.png", "neighbors.csv", "map.png", "geometry.json", "inspect.json"}


def _render(table) -> str:
    console = Console(record=True, width=160)
    console.print(table)
    return console.export_text()


@pytest.fixture(scope="module")
def digits_result(digits_store, tmp_path_factory):
    return inspect(digits_store, tmp_path_factory.mktemp("inspect"), sample=20, k=5)


def test_digits_files_neighbours_and_agreement(digits_result, digits):
    X, y = digits
    r = digits_result
    assert {p.split("/")[-1] for p in r.files.values()} >= FILES
    assert r.modality == "image" and r.num_items == 1797 and r.dim == 64
    assert sorted(y[r.sample_ids].tolist()) == sorted(list(range(10)) * 2)
    # pixel kNN on digits: ~98% of neighbours are the same digit, chance is 10%
    assert 0.95 < r.agreement < 1.0
    assert r.agreement_chance == pytest.approx(0.1, abs=0.005)
    assert r.agreement_queries == 1797
    with open(r.files["neighbors.csv"]) as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 20 * 5
    first = rows[0]
    cos = X[int(first["item_id"])] @ X[int(first["neighbor_id"])]
    cos /= np.linalg.norm(X[int(first["item_id"])]) * np.linalg.norm(X[int(first["neighbor_id"])])
    assert float(first["cosine"]) == pytest.approx(cos, abs=1e-5)
    assert first["label"] == str(y[int(first["item_id"])])
    assert [int(row["rank"]) for row in rows[:5]] == [1, 2, 3, 4, 5]


def test_digits_geometry_and_verdict(digits_result, digits):
    X, _ = digits
    r = digits_result
    saved = json.loads(Path(r.files["geometry.json"]).read_text())
    assert saved == json.loads(json.dumps(diagnose(X).to_dict()))
    assert r.verdict.startswith("anisotropic: mean cosine 0.69")
    full = json.loads(Path(r.files["inspect.json"]).read_text())
    assert full["verdict"] == r.verdict and full["neighbor_label_agreement"] == r.agreement
    assert full["projection"]["method"] == "pca" and full["projection"]["num_points"] == 1797


def test_table_shows_items_and_agreement(digits_result):
    text = _render(digits_result.table())
    assert "same label" in text and "chance 10.0%" in text
    assert f"#{digits_result.sample_ids[0]}" in text
    assert text.count("\n") > 20  # a row per sampled item


def _text_store(tmp_path, write_store, with_labels=True):
    """TF-IDF + SVD embeddings of a small labelled CSV of questions (two topics)."""
    sport = [
        "who won the football match",
        "how many goals did the striker score",
        "which team won the league title",
        "when is the next tennis final",
        "who is the fastest sprinter",
        "how long is a marathon race",
    ]
    food = [
        "how do I bake sourdough bread",
        "what spices go into a curry",
        "how long to boil an egg",
        "which cheese melts best on pizza",
        "how do you make fresh pasta",
        "what wine goes with fish",
    ]
    path = tmp_path / "questions.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for text, label in [(t, "sport") for t in sport] + [(t, "food") for t in food]:
            w.writerow([text, label])
    ds = load_dataset(str(path))
    X = TfidfVectorizer().fit_transform(ds["text"])
    X = TruncatedSVD(8, random_state=0).fit_transform(X).astype(np.float32)
    names = ds.features["label"].names if with_labels else None
    y = np.array(ds["label"]) if with_labels else None
    spec = {"source": str(path)}
    store = write_store(
        tmp_path / "store", X, y, label_names=names, spec=spec, encoder_name="tfidf"
    )
    return store, ds


def test_text_store_shows_texts(tmp_path, make_store):
    store, ds = _text_store(tmp_path, make_store)
    r = inspect(store, tmp_path / "out", sample=6, k=3)
    assert r.modality == "text" and r.notes == []
    for row in r.neighbors:
        assert row["item"] == ds[row["item_id"]]["text"]
        assert row["neighbor_item"] == ds[row["neighbor_id"]]["text"]
    assert sorted(row["label"] for row in r.neighbors if row["rank"] == 1)  # labels filled
    assert "football" in _render(r.table()) or "pasta" in _render(r.table())
    assert (tmp_path / "out" / "similarity.png").stat().st_size > 10_000


def test_unlabelled_store(tmp_path, make_store):
    store, _ = _text_store(tmp_path, make_store, with_labels=False)
    r = inspect(store, tmp_path / "out", sample=5, k=2)
    assert r.agreement is None and r.agreement_chance is None
    assert len(r.sample_ids) == 5 and all(row["label"] == "" for row in r.neighbors)
    assert "same label" not in _render(r.table())


def test_source_that_cannot_be_reloaded_falls_back_to_labels(tmp_path, digits, make_store):
    X, y = digits
    store = make_store(
        tmp_path / "s",
        X[:300],
        y[:300],
        label_names=[str(i) for i in range(10)],
        spec={"source": str(tmp_path / "gone.csv")},
    )
    r = inspect(store, tmp_path / "out", sample=10, k=3)
    assert r.modality is None and len(r.notes) == 1 and "gone.csv" in r.notes[0]
    assert all(row["item"] == "" for row in r.neighbors)
    assert (tmp_path / "out" / "similarity.png").is_file()


def test_changed_source_is_not_trusted(tmp_path, digits, make_store):
    X, y = digits
    store = make_store(
        tmp_path / "s",
        X[:300],
        y[:300],
        label_names=[str(i) for i in range(10)],
        spec={"source": "digits"},
        num_rows=300,
    )  # digits has 1797 rows
    r = inspect(store, tmp_path / "out", sample=10, k=3)
    assert r.modality is None and "1797 rows, not the 300" in r.notes[0]


def test_bad_options_raise_data_error(digits_store, tmp_path):
    with pytest.raises(DataError, match="--k must be between 1 and 1796"):
        inspect(digits_store, tmp_path, k=1797)
    with pytest.raises(DataError, match="--projection"):
        inspect(digits_store, tmp_path, projection="mds")
    with pytest.raises(DataError, match="--sample"):
        inspect(digits_store, tmp_path, sample=1)


@pytest.mark.shared_data
def test_cifar10_pixels_subset_with_thumbnails(tmp_path, shared_data, make_store):
    if not (shared_data / "cifar10").is_dir():
        pytest.skip(f"needs {shared_data}/cifar10")
    n = 500
    ds = load_dataset("cifar10", data_dir=str(shared_data), split="test")
    # a seeded subset (the file is sorted by class): store ids are source rows
    ids = np.sort(np.random.default_rng(0).choice(len(ds), n, replace=False))
    sub = ds.select(ids.tolist())
    X = np.stack([np.asarray(img, dtype=np.float32).ravel() / 255 for img in sub["image"]])
    y = np.array(sub["label"])
    spec = {"source": "cifar10", "split": "test", "data_dir": str(shared_data)}
    store = make_store(
        tmp_path / "s",
        X,
        y,
        label_names=ds.features["label"].names,
        spec=spec,
        num_rows=len(ds),
        ids=ids,
    )
    r = inspect(store, tmp_path / "out", sample=20, k=5)
    assert r.modality == "image" and r.notes == []
    assert set(r.sample_ids) <= set(ids.tolist())
    row = r.neighbors[0]
    assert row["item"].startswith(row["label"] + "/")  # image path "<class>/<nnnn>.jpg"
    # raw pixels: neighbours share the class above chance (~10%), far below digits
    assert r.agreement_chance < 0.11
    assert r.agreement_chance + 0.05 < r.agreement < 0.5
    assert r.geometry.status == "anisotropic"


def test_umap_missing_fails_before_any_work(digits_store, tmp_path, monkeypatch):
    import sys

    from reprlearn.analysis.projection import MissingDependencyError

    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(MissingDependencyError, match=r"reprlearn\[umap\]"):
        inspect(digits_store, tmp_path / "out", projection="umap")
    assert not (tmp_path / "out").exists()


def test_one_neighbour_search_serves_the_list_agreement_and_hubness(
    digits_store, digits, tmp_path, monkeypatch
):
    import importlib

    from reprlearn.analysis.geometry import hubness
    from reprlearn.analysis.neighbors import nearest_neighbors

    module = importlib.import_module("reprlearn.analysis.inspect")
    calls = []
    real = module._nearest
    monkeypatch.setattr(module, "_nearest", lambda *a: calls.append(a[1:]) or real(*a))
    r = inspect(digits_store, tmp_path, sample=20, k=5)
    assert [(k, q) for k, q in calls] == [(10, None)]  # one graph of every item, k = 10
    X, y = digits
    separate = nearest_neighbors(X, 5)
    assert r.agreement == pytest.approx(separate.label_agreement(y), abs=1e-3)
    assert r.geometry.hubness == pytest.approx(hubness(X, 10), abs=1e-9)
    rows = {(n["item_id"], n["rank"]): n["neighbor_id"] for n in r.neighbors}
    for i in r.sample_ids[:5]:
        assert [rows[(i, rank)] for rank in range(1, 6)] == separate.indices[i].tolist()
