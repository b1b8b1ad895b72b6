"""The FAISS index: autofaiss kind rule, recall against exact search, reuse, staleness."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import reprlearn
from reprlearn.errors import ReprlearnError, StoreError
from reprlearn.search.exact import exact_search
from reprlearn.search.index import build_index, choose_kind, load_index, parse_memory


def test_choose_kind_follows_autofaiss_thresholds():
    assert choose_kind(999, 384, 2**30) == "flat"
    assert choose_kind(5_000, 384, 1) == "hnsw"  # too few vectors to train quantisers
    assert choose_kind(1_000_000, 384, 16 * 2**30) == "hnsw"  # HNSW fits in 16 GiB
    assert choose_kind(1_000_000, 384, 512 * 2**20) == "ivf-pq"  # 1.8 GB does not fit 512 MiB


def test_parse_memory_and_bad_size():
    assert parse_memory("4G") == 4 * 2**30
    assert parse_memory("512MB") == 512 * 2**20
    with pytest.raises(ReprlearnError, match="--max-memory"):
        parse_memory("lots")


def test_hnsw_index_recall_and_files(digits_store):
    info = build_index(digits_store, kind="auto")
    assert info.kind == "hnsw"  # 1,797 vectors: between the flat and quantisation thresholds
    assert info.metric == "cosine"
    assert info.recall_at_10 >= 0.95 and info.recall_queries == 1000
    assert 64 * 4 < info.bytes_per_vector < 2_000  # vector + graph links
    saved = json.loads((digits_store / "index" / "index.json").read_text())
    assert saved["factory"] == "HNSW32" and saved["search_params"]["efSearch"] >= 16
    # reused when nothing changed
    again = build_index(digits_store, kind="auto")
    assert again.created == info.created


def test_index_results_match_exact_search(digits_store):
    build_index(digits_store, kind="flat", overwrite=True)
    index = load_index(digits_store)
    store = reprlearn.EmbeddingStore.open(digits_store)
    X, _ = store.to_numpy()
    scores, ids = index.search(X[:20], 5)
    ex_scores, ex_ids = exact_search(store, X[:20], 5, "cosine")
    np.testing.assert_allclose(scores, ex_scores, atol=1e-5)
    assert (ids[:, 0] == np.arange(20)).all()  # each item is its own nearest (cosine 1)


def test_ivf_pq_trains_and_reports_recall(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 32)).astype(np.float32)
    X = centres[rng.integers(0, 20, 3000)] + 0.3 * rng.normal(size=(3000, 32)).astype(np.float32)
    from reprlearn.store import StoreWriter

    w = StoreWriter(
        tmp_path / "s", {"encoder_name": "synthetic", "normalized": False, "shard_size": 1000}
    )
    for i in range(3):
        w.write_shard(
            i, np.arange(i * 1000, (i + 1) * 1000), X[i * 1000 : (i + 1) * 1000], None, []
        )
    w.finish({"dim": 32, "encoder": {"name": "synthetic", "modality": "text", "dim": 32}})
    info = build_index(tmp_path / "s", kind="ivf-pq", max_memory="1G")
    assert info.factory.startswith("IVF") and ",PQ8x" in info.factory
    assert info.bytes_per_vector < 32 * 4  # compressed below the float32 vectors
    assert 0.3 < info.recall_at_10 <= 1.0


def test_changed_store_is_detected(tmp_path, digits_store):
    copy = tmp_path / "copy"
    shutil.copytree(digits_store, copy)
    build_index(copy, kind="flat", overwrite=True)
    assert load_index(copy) is not None  # a copied, unchanged store stays valid
    # the store is re-embedded in place (here: normalised vectors) after indexing
    other = reprlearn.embed(
        reprlearn.load_dataset("digits"),
        "pixels",
        out=tmp_path / "other",
        normalize=True,
        progress=False,
    )
    shutil.rmtree(copy / "data")
    shutil.copytree(other.path / "data", copy / "data")
    shutil.copy(other.path / "manifest.json", copy / "manifest.json")
    with pytest.raises(StoreError, match="rebuild it with `reprlearn index"):
        load_index(copy)
    info = build_index(copy, kind="flat")  # `reprlearn index` rebuilds the stale index
    assert load_index(copy).info.fingerprint == info.fingerprint


def test_l2_metric_from_the_manifest_matches_sklearn(tmp_path):
    from sklearn.neighbors import NearestNeighbors

    from reprlearn.store import StoreWriter

    rng = np.random.default_rng(3)
    X = rng.normal(size=(1500, 8)).astype(np.float32) * rng.uniform(0.5, 3, size=(1500, 1)).astype(
        np.float32
    )
    header = {"encoder_name": "synthetic", "normalized": False, "shard_size": 500, "metric": "l2"}
    w = StoreWriter(tmp_path / "s", header)
    for i in range(3):
        w.write_shard(i, np.arange(i * 500, (i + 1) * 500), X[i * 500 : (i + 1) * 500], None, [])
    store = w.finish({"dim": 8, "encoder": {"name": "synthetic", "modality": "text", "dim": 8}})
    info = build_index(store, kind="hnsw")
    assert info.metric == "l2" and info.recall_at_10 > 0.9
    dist, ids = exact_search(store, X[:5], 4, "l2")
    ref_d, ref_i = NearestNeighbors(n_neighbors=4).fit(X).kneighbors(X[:5])
    np.testing.assert_array_equal(ids, ref_i)
    np.testing.assert_allclose(dist, ref_d**2, rtol=1e-4, atol=1e-4)  # squared L2 distances
    hnsw_d, hnsw_i = load_index(store).search(X[:5], 4)
    assert (hnsw_i[:, 0] == np.arange(5)).all() and np.allclose(hnsw_d[:, 0], 0, atol=1e-4)
