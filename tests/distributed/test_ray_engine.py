"""``embed --engine ray``: the Ray Data engine writes the local engine's store.

One local Ray cluster (``ray.init(num_cpus=2)``) is shared by the module: Ray's start-up
and each run's actor start-up take seconds, so only the equality test runs by default;
the fault-tolerance tests (an actor killed mid-run, the driver killed then rerun) are
``slow``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from reprlearn import embed, load_dataset
from reprlearn.distributed.ray_engine import RayOptions
from reprlearn.distributed.work import plan_chunks
from reprlearn.store import EmbeddingStore

SHARD = 500  # digits' 1797 rows -> 4 shards


def test_plan_chunks_cover_each_row_once_in_batch_multiples():
    pending = {0: (0, 500), 1: (500, 500), 3: (1500, 297)}
    chunks = plan_chunks(pending, batch_size=64, actors=4)
    rows = np.concatenate([np.arange(c["lo"], c["lo"] + c["rows"]) for c in chunks])
    want = np.concatenate([np.arange(lo, lo + n) for lo, n in pending.values()])
    assert np.array_equal(rows, want)  # every pending row once, in order, nothing else
    for c in chunks:
        lo, n = pending[c["shard"]]
        assert lo <= c["lo"] and c["lo"] + c["rows"] <= lo + n  # a chunk stays in its shard
        assert c["rows"] % 64 == 0 or c["lo"] + c["rows"] == lo + n
    assert len(chunks) >= 8  # 3 shards spread over 4 actors
    # enough shards for every actor: one chunk per shard (the local engine's batches)
    many = {i: (i * 100, 100) for i in range(10)}
    assert [c["rows"] for c in plan_chunks(many, batch_size=32, actors=2)] == [100] * 10


def test_cli_refuses_ray_flags_without_engine_ray(tmp_path):
    from reprlearn.cli import _register_commands, app
    from reprlearn.errors import DataError

    _register_commands()
    out = str(tmp_path / "s")
    result = CliRunner().invoke(app, ["embed", "digits", "-e", "pca:8", "--actors", "2", "-o", out])
    assert isinstance(result.exception, DataError), result.output
    assert "--actors" in str(result.exception) and "--engine ray" in str(result.exception)
    result = CliRunner().invoke(
        app, ["embed", "digits", "-e", "pca:8", "--engine", "spark", "-o", out]
    )
    assert isinstance(result.exception, DataError) and "--engine" in str(result.exception)
    assert not (tmp_path / "s").exists()  # refused before anything was loaded or written


@pytest.fixture(scope="module")
def ray_cluster():
    """A local 2-CPU Ray cluster for the module; yields its GCS address."""
    ray = pytest.importorskip(
        "ray", reason="ray[data] not installed (pip install 'reprlearn[ray]')"
    )
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def local_store(digits, tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "store"
    return embed(digits, "pca:16", out, shard_size=SHARD, progress=False)


def _assert_same_store(a: EmbeddingStore, b: EmbeddingStore) -> None:
    """Same shards, ids, order, labels, fitted state; vectors within 1e-5 (fp32)."""
    assert sorted(a.manifest["shards"]) == sorted(b.manifest["shards"])
    for name, rec in a.manifest["shards"].items():
        assert b.manifest["shards"][name]["rows"] == rec["rows"]
    for key in ("encoder_name", "dim", "counts", "fitted_state_fingerprint", "label_names"):
        assert a.manifest[key] == b.manifest[key], key
    Xa, ya = a.to_numpy()
    Xb, yb = b.to_numpy()
    assert np.array_equal(a.ids(), b.ids()) and np.array_equal(ya, yb)
    assert len(np.unique(b.ids())) == len(Xb)  # nothing twice
    assert a.manifest["skipped"] == b.manifest["skipped"]  # nothing lost
    assert np.abs(Xa - Xb).max() <= 1e-5


def test_ray_engine_writes_the_local_engines_store(ray_cluster, digits, local_store, tmp_path):
    """pca:16 fitted once on the driver and shipped to a 2-actor pool: the same store."""
    store = embed(
        digits,
        "pca:16",
        tmp_path / "ray",
        shard_size=SHARD,
        progress=False,
        engine="ray",
        ray=RayOptions(actors=2),
    )
    _assert_same_store(local_store, store)
    assert store.manifest["engine"] == "ray" and store.manifest["status"] == "complete"
    assert (tmp_path / "ray" / "encoder" / "state.json").is_file()  # the driver's fit
    reopened = EmbeddingStore.open(tmp_path / "ray")
    assert reopened.manifest["timing"]["items"] == digits.num_rows


@pytest.mark.slow
def test_ray_engine_survives_a_killed_actor(ray_cluster, digits, local_store, tmp_path):
    """An actor SIGKILLs itself on its first chunk: Ray restarts it and retries the chunk;
    the store still has every row exactly once, equal to the local engine's."""
    from reprlearn.encoders import load_encoder

    marker, driver = tmp_path / "killed", os.getpid()
    enc = load_encoder("pca:16")
    base = type(enc)

    class DiesOnce(base):  # a local class: cloudpickle ships it by value to the actors
        def encode(self, items):
            if os.getpid() == driver:  # never the test process itself
                return super().encode(items)
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return super().encode(items)
            os.kill(os.getpid(), signal.SIGKILL)

    enc.__class__ = DiesOnce
    store = embed(
        digits,
        enc,
        tmp_path / "ray",
        shard_size=SHARD,
        progress=False,
        engine="ray",
        ray=RayOptions(actors=2),
    )
    assert marker.exists()  # an actor did die mid-run
    _assert_same_store(local_store, store)


_DRIVER = textwrap.dedent(
    """
    import sys, time
    from reprlearn import embed, load_dataset
    from reprlearn.distributed.ray_engine import RayOptions
    from reprlearn.encoders import load_encoder

    enc = load_encoder("pca:16")

    class Slow(type(enc)):
        def encode(self, items):
            time.sleep(0.4)
            return super().encode(items)

    enc.__class__ = Slow
    embed(load_dataset("digits"), enc, sys.argv[1], shard_size=100, progress=False,
          engine="ray", ray=RayOptions(address=sys.argv[2], actors=1))
    """
)


@pytest.mark.slow
def test_ray_engine_resumes_after_the_driver_is_killed(ray_cluster, digits, local_store, tmp_path):
    """kill -9 the driver after a few shards; the same command resumes: only the missing
    shards are embedded and the store equals the local engine's."""
    out = tmp_path / "ray"
    script = tmp_path / "driver.py"
    script.write_text(_DRIVER)
    proc = subprocess.Popen([sys.executable, str(script), str(out), ray_cluster])
    deadline = time.time() + 120
    written = 0
    while time.time() < deadline and proc.poll() is None:
        try:
            written = len(json.loads((out / "manifest.json").read_text()).get("shards", {}))
        except (OSError, ValueError):
            written = 0
        if written >= 3:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 3 <= written < 18, f"the driver wrote {written} of 18 shards before the kill"
    before = json.loads((out / "manifest.json").read_text())
    assert before["status"] == "running"
    done_before = sum(r["rows"] for r in before["shards"].values())

    local = embed(digits, "pca:16", tmp_path / "local", shard_size=100, progress=False)
    store = embed(
        digits,
        "pca:16",
        out,
        shard_size=100,
        progress=False,
        engine="ray",
        ray=RayOptions(actors=2),
    )
    assert store.manifest["timing"]["items"] == digits.num_rows - done_before
    for name, rec in before["shards"].items():  # shards written before the kill kept as is
        assert store.manifest["shards"][name]["sha256"] == rec["sha256"]
    _assert_same_store(local, store)


@pytest.fixture(scope="module")
def tiny_st_texts(tmp_path_factory, save_tiny_st):
    """A tiny random sentence-transformers model (2-layer 32-wide BERT, mean pooling) saved
    to a folder, and 300 short texts over its vocabulary, as a ``datasets.Dataset``."""
    import datasets

    words = [f"w{i}" for i in range(50)]
    folder = save_tiny_st(tmp_path_factory.mktemp("st"), words)
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 20))) for _ in range(300)]
    texts[150] = ""  # a bad item: skipped and listed by both engines
    return f"st:{folder}", datasets.Dataset.from_dict({"text": texts})


@pytest.mark.slow
def test_ray_engine_equals_local_for_a_torch_text_encoder(ray_cluster, tiny_st_texts, tmp_path):
    """A sentence-transformers model on 2 CPU actors in fp32, shards cut into chunks of
    16-text batches (other length-sorted batches than the local engine's): same ids, order
    and shards, vectors within 1e-5, the same empty text skipped and listed."""
    name, texts = tiny_st_texts
    common = dict(shard_size=100, batch_size=16, precision="fp32", progress=False, on_error="skip")
    local = embed(texts, name, tmp_path / "local", **common)
    store = embed(texts, name, tmp_path / "ray", engine="ray", ray=RayOptions(actors=2), **common)
    assert store.manifest["precision"] == "fp32" and store.manifest["device"] == "cpu"
    _assert_same_store(local, store)
    assert [s["id"] for s in store.manifest["skipped"]] == [150]


def test_a_failed_ray_run_reports_its_root_cause_in_one_line():
    from reprlearn.distributed.ray_engine import _ray_failure
    from reprlearn.errors import DataError, ReprlearnError

    ray_text = (
        "The actor died because of an error raised in its creation task, "
        "\x1b[36mray::MapWorker(MapBatches(EncodeChunks)).__init__()\x1b[39m (pid=1)\n"
        '  File "x.py", line 1, in __init__\n'
        "OSError: /data/cache-1.arrow: No such file or directory\n"
    )
    err = _ray_failure(RuntimeError(ray_text))
    assert isinstance(err, ReprlearnError) and "\n" not in str(err)
    assert "OSError: /data/cache-1.arrow: No such file" in str(err) and "\x1b" not in str(err)
    ours = DataError("row 7: empty text")
    wrapped = RuntimeError("task failed")
    wrapped.__cause__ = ours
    assert _ray_failure(wrapped) is ours  # the library's own error, as the local engine says


def test_pool_size_defaults_to_the_cluster_and_refuses_what_a_local_one_cannot_hold():
    from types import SimpleNamespace

    from reprlearn.distributed.cluster import pool_size
    from reprlearn.errors import ReprlearnError

    two_cpus = SimpleNamespace(cluster_resources=lambda: {"CPU": 2.0})
    assert pool_size(two_cpus, None, 1.0, 0.0) == 2
    assert pool_size(two_cpus, 8, 1.0, 0.0) == 8  # a cluster that may grow (--address)
    with pytest.raises(ReprlearnError, match="--actors 8: the local Ray cluster has 2 CPUs"):
        pool_size(two_cpus, 8, 1.0, 0.0, fixed=True)  # would wait forever
    with pytest.raises(ReprlearnError, match="--gpus-per-actor 1: the Ray cluster has 0 GPU"):
        pool_size(two_cpus, None, 1.0, 1.0)
    gpus = SimpleNamespace(cluster_resources=lambda: {"CPU": 16.0, "GPU": 4.0})
    assert pool_size(gpus, None, 1.0, 0.5) == 8
