"""The sharded IVF-PQ index (issue 13 part 4): trained once, filled part by part from a
streamed store, searched over every part with the top-k lists merged."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reprlearn.errors import ReprlearnError
from reprlearn.search.exact import exact_search
from reprlearn.search.index import build_index, load_index
from reprlearn.search.neighbors import knn
from reprlearn.store import EmbeddingStore, StoreWriter


def _clustered_store(path, n=3000, dim=32, shard=500, seed=0):
    """A store of ``n`` vectors around 40 centres, written in shards of ``shard`` rows."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, dim)).astype(np.float32)
    X = centres[rng.integers(0, 40, n)] + 0.3 * rng.normal(size=(n, dim)).astype(np.float32)
    header = {"encoder_name": "synthetic", "normalized": False, "shard_size": shard}
    with StoreWriter(path, header) as w:
        for i, lo in enumerate(range(0, n, shard)):
            w.write_shard(i, np.arange(lo, min(n, lo + shard)), X[lo : lo + shard], None, [])
        w.finish({"dim": dim, "encoder": {"name": "synthetic", "modality": "text", "dim": dim}})
    return EmbeddingStore.open(path), X


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    return _clustered_store(tmp_path_factory.mktemp("sharded") / "s")


def test_parts_are_written_and_searched_merged(clustered):
    store, X = clustered
    # 1,250 per part: parts cut across store shards (500 rows each), last one partial
    info = build_index(store, kind="ivf-pq", part_rows=1250, max_memory="1G", overwrite=True)
    assert info.parts == ["part-00000.faiss", "part-00001.faiss", "part-00002.faiss"]
    assert info.num_vectors == 3000 and info.part_rows == 1250
    assert "sharded" in info.chosen_by and "nprobe" in info.search_params
    assert not (store.path / "index" / "index.faiss").exists()
    saved = json.loads((store.path / "index" / "index.json").read_text())
    assert saved["parts"] == info.parts
    import faiss

    sizes = [faiss.read_index(str(store.path / "index" / p)).ntotal for p in info.parts]
    assert sizes == [1250, 1250, 500]
    loaded = load_index(store)
    assert loaded.index.ntotal == 3000
    # a query item is among its own top 10 (PQ codes are approximate): ids come from
    # every part, mapped to store ids
    queries = np.array([5, 1300, 2999])
    _, ids = loaded.search(X[queries], 10)
    assert (ids == queries[:, None]).any(1).all()
    # recall against exact search, as for a single index
    assert info.recall_at_10 > 0.3  # PQ8 codes of 32-d clustered data: coarse
    scores, found, method = knn(store, X[:50], 10, exclude_ids=np.arange(50))
    _, truth = exact_search(store, X[:50], 10, "cosine", exclude_ids=np.arange(50))
    overlap = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert method == "index (ivf-pq)" and overlap > 0.3


def test_sharded_equals_one_index_with_the_same_training(clustered):
    """All parts share the quantiser and codebooks trained once, so merging their top-k
    gives what one index holding every vector gives."""
    store, X = clustered
    one = build_index(store, kind="ivf-pq", max_memory="1G", overwrite=True)
    single = load_index(store)
    D1, I1 = single.search(X[:30], 10)
    sharded = build_index(store, kind="ivf-pq", part_rows=800, max_memory="1G", overwrite=True)
    assert sharded.factory == one.factory
    parts = load_index(store)
    parts.index.set_nprobe(one.search_params["nprobe"])
    D2, I2 = parts.search(X[:30], 10)
    np.testing.assert_allclose(D1, D2, atol=1e-4)
    assert (I1 == I2).mean() > 0.95  # ties may swap order


def test_part_rows_needs_ivf_pq(clustered):
    store, _ = clustered
    with pytest.raises(ReprlearnError, match="--kind ivf-pq"):
        build_index(store, kind="hnsw", part_rows=1000)
    with pytest.raises(ReprlearnError, match="1 or more"):
        build_index(store, kind="ivf-pq", part_rows=0)


def test_cli_index_part_rows(clustered, tmp_path):
    from typer.testing import CliRunner

    from reprlearn.cli import _register_commands, app

    _register_commands()
    store, _ = clustered
    result = CliRunner().invoke(
        app, ["index", str(store.path), "--part-rows", "1500", "--kind", "ivf-pq", "--overwrite"]
    )
    assert result.exit_code == 0, result.output
    assert "2 parts" in result.output
