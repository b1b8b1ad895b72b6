"""Stores larger than memory (issue 13 part 3): streaming batches, seeded bounded samples
that record what was sampled, and inspect / probe loading a bounded number of rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

import reprlearn
from reprlearn.errors import StoreError
from reprlearn.store import EmbeddingStore, default_max_rows


@pytest.fixture(scope="module")
def digits_store(tmp_path_factory):
    """The 1,797 digits as pixel vectors (64-d, labelled), in shards of 500 rows."""
    out = tmp_path_factory.mktemp("stream") / "digits"
    ds = reprlearn.load_dataset("digits")
    reprlearn.embed(ds, "pixels", out=out, shard_size=500, progress=False)
    return EmbeddingStore.open(out)


@pytest.fixture
def no_whole_table(monkeypatch):
    """Fail if anything loads the whole store as one table (the unbounded path)."""

    def refuse(self):
        raise AssertionError("the whole store was loaded")

    monkeypatch.setattr(EmbeddingStore, "table", refuse)


def test_iter_batches_streams_every_row_in_order(digits_store):
    X, y = digits_store.to_numpy()
    batches = list(digits_store.iter_batches(batch_size=128))
    # 4 shards (500, 500, 500, 297 rows) -> 4 + 4 + 4 + 3 batches: none spans two shards
    assert len(batches) == 15 and {b.shard for b in batches} == {
        p.name for p in digits_store.shard_paths()
    }
    assert max(len(b) for b in batches) == 128
    assert [b.start for b in batches] == list(np.cumsum([0] + [len(b) for b in batches[:-1]]))
    np.testing.assert_array_equal(np.concatenate([b.X for b in batches]), X)
    np.testing.assert_array_equal(np.concatenate([b.labels for b in batches]), y)
    np.testing.assert_array_equal(np.concatenate([b.ids for b in batches]), digits_store.ids())
    assert batches[0].X.dtype == np.float32 and batches[0].X.flags.writeable


def test_iter_batches_reads_only_the_columns_asked(digits_store):
    batch = next(digits_store.iter_batches(columns=("id", "label")))
    assert batch.X is None and len(batch.ids) == len(batch.labels) == 500
    with pytest.raises(StoreError, match="columns must be among"):
        next(digits_store.iter_batches(columns=("vector",)))


def test_iter_batches_refuses_an_altered_shard(tmp_path, digits_store):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(digits_store.path, copy)
    store = EmbeddingStore.open(copy)
    shard = store.shard_paths()[1]
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF  # same size, same row count: only the SHA-256 tells
    shard.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="part-00001.parquet was altered"):
        list(store.iter_batches())


def test_sample_is_seeded_uniform_and_records_itself(digits_store, no_whole_table):
    a = digits_store.sample(300, seed=1)
    b = digits_store.sample(300, seed=1)
    c = digits_store.sample(300, seed=2)
    np.testing.assert_array_equal(a.ids, b.ids)
    assert not np.array_equal(a.ids, c.ids)
    assert len(np.unique(a.ids)) == 300 and (np.diff(a.ids) > 0).all()  # sorted by id
    assert a.record() == {
        "rows": 300,
        "of": 1797,
        "sampled": True,
        "seed": 1,
        "max_rows": 300,
        "method": "uniform without replacement",
    }
    assert "--max-rows 1797" in a.note()
    # the sampled rows are the store's own rows (vector and label of each id)
    batches = list(digits_store.iter_batches())
    X = np.concatenate([b.X for b in batches])
    y = np.concatenate([b.labels for b in batches])
    order = np.argsort(np.concatenate([b.ids for b in batches]))
    np.testing.assert_array_equal(a.X, X[order][a.ids])
    np.testing.assert_array_equal(a.y, y[order][a.ids])
    # spread over the whole store, not the first shards
    assert a.ids.min() < 100 and a.ids.max() > 1697


def test_load_bounded_loads_all_rows_under_the_cap(digits_store):
    every = digits_store.load_bounded()
    assert not every.sampled and every.record()["method"] == "all rows"
    assert len(every.ids) == 1797 and every.note() is None
    assert default_max_rows(64) == 1_000_000 and default_max_rows(768) == 349_525
    with pytest.raises(StoreError, match="--max-rows"):
        digits_store.load_bounded(0)


def test_inspect_on_a_bounded_sample(digits_store, tmp_path, no_whole_table):
    result = reprlearn.inspect(digits_store, tmp_path / "insp", sample=10, max_rows=600, seed=3)
    assert result.num_items == 600
    assert result.loaded["rows"] == 600 and result.loaded["of"] == 1797
    assert any("sampled 600 of 1,797 rows" in n for n in result.notes)
    saved = json.loads((tmp_path / "insp" / "inspect.json").read_text())
    assert saved["loaded"]["sampled"] is True and saved["loaded"]["seed"] == 3
    sampled = set(digits_store.sample(600, seed=3).ids.tolist())
    assert set(result.sample_ids) <= sampled


@pytest.mark.slow  # ~10-20 s on 2 shared cores; test_cli_probe_max_rows (knn) runs by default
def test_probe_linear_on_a_bounded_sample(digits_store, no_whole_table):
    result = reprlearn.probe(digits_store, "linear", max_rows=800, seed=0)
    assert result.n_items == 800
    assert result.loaded["store"]["rows"] == 800 and result.loaded["store"]["of"] == 1797
    assert any(n.startswith("store: sampled 800 of 1,797") for n in result.notes)
    assert result.to_dict()["loaded"]["store"]["sampled"] is True
    assert result.results["linear"].accuracy.value > 0.85  # digits pixels: ~0.95 on all rows
    assert set(result.test_ids.tolist()) <= set(digits_store.sample(800, seed=0).ids.tolist())


def test_cli_probe_max_rows(digits_store):
    from typer.testing import CliRunner

    from reprlearn.cli import _register_commands, app

    _register_commands()
    run = CliRunner().invoke(
        app, ["probe", str(digits_store.path), "-p", "knn", "--max-rows", "700", "--json"]
    )
    assert run.exit_code == 0, run.output
    payload = json.loads(run.output)
    assert payload["loaded"]["store"] == {
        "rows": 700,
        "of": 1797,
        "sampled": True,
        "seed": 0,
        "max_rows": 700,
        "method": "uniform without replacement",
    }


def test_probe_samples_by_default_above_the_cap(digits_store, monkeypatch, no_whole_table):
    """No --max-rows: the default cap (1 GiB of vectors, at most 1e6 rows; lowered here
    to 900 to stand for a big store) applies, and the result says so."""
    monkeypatch.setattr("reprlearn.store.DEFAULT_MAX_ROWS", 900)
    result = reprlearn.probe(digits_store, "knn")
    assert result.loaded["store"]["rows"] == 900 and result.loaded["store"]["max_rows"] == 900
    assert result.results["knn"].accuracy.value > 0.85
