"""The embed loop and the embedding store: shapes, resume after interruption, bad items."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

import datasets
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from reprlearn.data import load_dataset
from reprlearn.embed import embed, encode_items
from reprlearn.encoders import load_encoder
from reprlearn.encoders.base import TorchEncoder
from reprlearn.errors import DataError, StoreError
from reprlearn.store import EmbeddingStore, StoreWriter


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_digits_pca32_store(digits, tmp_path):
    store = embed(digits, "pca:32", tmp_path / "s", progress=False)
    X, y = store.to_numpy()
    assert X.shape == (1797, 32) and X.dtype == np.float32
    assert (y == np.asarray(digits["label"])).all()
    df = pd.read_parquet(tmp_path / "s" / "data")
    assert len(df) == 1797 and len(df.embedding[0]) == 32
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["counts"]["embedded"] == 1797
    assert manifest["encoder_name"] == "pca:32" and manifest["label_names"][0] == "0"
    assert "torch" in manifest["versions"]


def test_store_readable_by_polars_and_duckdb(digits, tmp_path):
    polars = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    embed(digits, "pca:8", tmp_path / "s", progress=False)
    assert polars.read_parquet(str(tmp_path / "s" / "data" / "*.parquet")).height == 1797
    n = duckdb.sql(f"select count(*) from read_parquet('{tmp_path}/s/data/*.parquet')").fetchone()[
        0
    ]
    assert n == 1797


def test_pixels_are_flattened_unit_range(digits):
    X = encode_items("pixels", digits["image"][:10])
    assert X.shape == (10, 64) and X.min() >= 0 and X.max() <= 1
    raw = np.asarray(digits[0]["image"], dtype=np.float32).reshape(-1) / 255
    np.testing.assert_allclose(X[0], raw)


def test_normalize_gives_unit_vectors(digits, tmp_path):
    X, _ = embed(
        digits, "random-projection:16", tmp_path / "s", normalize=True, progress=False
    ).to_numpy()
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1, atol=1e-5)


def test_interrupted_run_resumes_to_the_same_store(digits, tmp_path, monkeypatch):
    full, _ = embed(digits, "pca:16", tmp_path / "full", shard_size=300, progress=False).to_numpy()
    calls = {"n": 0}
    original = StoreWriter.write_shard

    def dying(self, *args, **kwargs):
        if calls["n"] == 3:
            raise KeyboardInterrupt
        calls["n"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StoreWriter, "write_shard", dying)
    with pytest.raises(KeyboardInterrupt):
        embed(digits, "pca:16", tmp_path / "cut", shard_size=300, progress=False)
    with pytest.raises(StoreError, match="incomplete"):
        EmbeddingStore.open(tmp_path / "cut")
    monkeypatch.setattr(StoreWriter, "write_shard", original)
    resumed = embed(digits, "pca:16", tmp_path / "cut", shard_size=300, progress=False)
    X, _ = resumed.to_numpy()
    assert len(resumed.shard_paths()) == 6
    np.testing.assert_array_equal(X, full)


def test_store_never_mixes_encoders(digits, tmp_path):
    embed(digits, "pca:8", tmp_path / "s", progress=False)
    with pytest.raises(
        StoreError, match="embedded with encoder 'pca:8', not 'pca:16'.*--overwrite"
    ):
        embed(digits, "pca:16", tmp_path / "s", progress=False)
    store = embed(digits, "pca:16", tmp_path / "s", overwrite=True, progress=False)
    assert store.dim == 16


def test_store_never_mixes_sources(digits, tmp_path):
    embed(digits, "pca:8", tmp_path / "s", progress=False)
    with pytest.raises(StoreError, match="the source changed: it now has 100 rows") as err:
        embed(digits.select(range(100)), "pca:8", tmp_path / "s", progress=False)
    assert "source_fingerprint" not in str(err.value)


def _png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, format="PNG")
    return buf.getvalue()


def _images_with_a_corrupt_one():
    good = [{"bytes": _png((i * 20, 0, 0)), "path": f"a/{i}.png"} for i in range(6)]
    truncated = {"bytes": _png((0, 0, 0))[:30], "path": "a/broken.png"}
    feats = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=["a"])}
    )
    return datasets.Dataset.from_dict(
        {"image": good[:3] + [truncated] + good[3:], "label": [0] * 7}, features=feats
    )


def test_corrupt_image_is_named_or_skipped_and_counted(tmp_path):
    ds = _images_with_a_corrupt_one()
    with pytest.raises(DataError, match=r"row 3 .*\(a/broken.png\).*--on-error skip"):
        embed(ds, "pixels", tmp_path / "a", progress=False, num_workers=0)
    store = embed(
        ds, "pixels", tmp_path / "b", on_error="skip", progress=False, num_workers=0, overwrite=True
    )
    assert store.manifest["counts"] == {"rows": 7, "embedded": 6, "skipped": 1}
    assert store.manifest["skipped"][0]["id"] == 3
    assert store.ids().tolist() == [0, 1, 2, 4, 5, 6]


def test_empty_text_is_named_with_file_and_line(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("a fine sentence\n   \nanother one\n")
    ds = load_dataset(str(path))
    with pytest.raises(DataError, match=r"row 1 .*t.txt:2\): empty text"):
        embed(ds, "tfidf:10", tmp_path / "s", progress=False)


def test_wrong_modality_lists_columns(digits, tmp_path):
    with pytest.raises(DataError, match=r"reads 'text' items.*\['image', 'label'\]"):
        embed(digits, "tfidf", tmp_path / "s", progress=False)


def test_fitted_state_is_reused_on_new_data(digits, tmp_path):
    store = embed(digits, "pca:8", tmp_path / "s", progress=False)
    enc = load_encoder("pca:8").load(tmp_path / "s" / "encoder")
    X, _ = store.to_numpy()
    np.testing.assert_allclose(enc.encode(digits["image"][:5]), X[:5], rtol=1e-5, atol=1e-5)


@pytest.mark.shared_data
def test_kill_9_midway_then_rerun_completes_exactly(shared_data, tmp_path):
    """A real SIGKILL during `reprlearn embed` on CIFAR-10 test; the rerun completes to 10,000 rows."""
    out = tmp_path / "cifar"
    cmd = [
        sys.executable,
        "-m",
        "reprlearn.cli",
        "embed",
        "cifar10",
        "--data-dir",
        str(shared_data),
        "--encoder",
        "pixels",
        "--out",
        str(out),
        "--shard-size",
        "1000",
        "--json",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "data" / "part-00002.parquet").exists():
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = len(list((out / "data").glob("part-*.parquet")))
    assert 0 < written < 10, "the kill must land half-way"
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    store = EmbeddingStore.open(out)
    X, y = store.to_numpy()
    assert X.shape == (10000, 3072) and store.ids().tolist() == list(range(10000))
    fresh, _ = embed(
        load_dataset("cifar10", data_dir=str(shared_data)),
        "pixels",
        tmp_path / "fresh",
        shard_size=1000,
        progress=False,
    ).to_numpy()
    np.testing.assert_array_equal(X, fresh)


def test_cli_unknown_encoder_is_one_clear_line(tmp_path):
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "reprlearn.cli",
            "embed",
            "digits",
            "-e",
            "nope:1",
            "-o",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert "unknown encoder 'nope:1'" in res.stderr and "Traceback" not in res.stderr


# --- issue 14 item 3: bad numbers are refused before any work ---------------------------
@pytest.mark.parametrize(
    "option, value",
    [("batch_size", -5), ("batch_size", -1), ("batch_size", 0), ("shard_size", -10),
     ("shard_size", 0), ("num_workers", -1), ("batch_size", 2.5)],
)  # fmt: skip
def test_bad_sizes_are_refused_before_any_work(digits, tmp_path, option, value):
    flag = "--" + option.replace("_", "-")
    with pytest.raises(DataError, match=f"{option} \\({flag}\\) must be an integer"):
        embed(digits, "pca:8", tmp_path / "s", progress=False, **{option: value})
    assert not (tmp_path / "s").exists()


def test_cli_negative_batch_size_is_one_line_and_writes_nothing(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "reprlearn.cli", "embed", "digits", "-e", "pca:8",
         "-o", str(tmp_path / "s"), "--batch-size", "-5"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "--batch-size) must be an integer >= 1, got -5" in " ".join(res.stderr.split())
    assert not (tmp_path / "s").exists()


# --- issue 14 item 7: no crash after the store is written -------------------------------
class _TinyText(TorchEncoder):
    """A real (tiny) neural text encoder: text length -> Linear(1, 4)."""

    modality = "text"

    def __init__(self) -> None:
        torch.manual_seed(0)
        self.model, self._dim, self.name = torch.nn.Linear(1, 4), 4, "tiny-text"

    def preprocess(self, item):
        return torch.tensor([float(len(item))])

    def forward(self, batch):
        return self.model(batch)


def test_empty_input_with_a_neural_encoder_is_a_clear_error(tmp_path):
    empty = datasets.Dataset.from_dict(
        {"text": []}, features=datasets.Features({"text": datasets.Value("string")})
    )
    with pytest.raises(DataError, match="no rows: nothing to embed"):
        embed(empty, _TinyText(), tmp_path / "s", progress=False, precision="fp32")
    assert not (tmp_path / "s").exists()


def test_resume_with_every_shard_written_but_unfinished(tmp_path, monkeypatch):
    ds = datasets.Dataset.from_dict({"text": [f"text number {i}" for i in range(50)]})
    original = StoreWriter.finish

    def killed(self, extra):
        raise KeyboardInterrupt

    monkeypatch.setattr(StoreWriter, "finish", killed)
    with pytest.raises(KeyboardInterrupt):
        embed(ds, _TinyText(), tmp_path / "s", shard_size=20, progress=False, precision="fp32")
    monkeypatch.setattr(StoreWriter, "finish", original)
    store = embed(ds, _TinyText(), tmp_path / "s", shard_size=20, progress=False, precision="fp32")
    summary = store.summary()  # crashed with TypeError (round of None) before
    assert summary["rows"] == 50 and summary["items_per_s"] is None
    assert store.manifest["timing"]["items"] == 0


# --- issue 14 "Memory": fit on a bounded sample, recorded in the manifest ---------------
def test_fit_uses_a_bounded_seeded_sample_and_records_it(digits, tmp_path, monkeypatch):
    import reprlearn.fitting

    monkeypatch.setattr(reprlearn.fitting, "FIT_MAX_ITEMS", 300)
    a = embed(digits, "pca:8", tmp_path / "a", progress=False)
    assert a.manifest["fit"]["n_items"] == 300 and a.manifest["fit"]["of_rows"] == 1797
    assert "seed 0" in a.manifest["fit"]["sample"]
    b = embed(digits, "pca:8", tmp_path / "b", progress=False)
    assert b.manifest["fitted_state_fingerprint"] == a.manifest["fitted_state_fingerprint"]
    assert len(a.to_numpy()[0]) == 1797  # every row is still embedded (streamed)
    pixels = embed(digits, "pixels", tmp_path / "p", progress=False)
    assert pixels.manifest["fit"]["n_items"] == 1  # only the first image's size and mode
    assert pixels.manifest["fitted_state_fingerprint"] is not None


def test_fit_rows_sample_includes_row_0_and_is_seeded():
    from reprlearn.fitting import fit_rows

    rows = fit_rows(100_000, 10_000)
    assert len(rows) == 10_000 and rows[0] == 0 and (np.diff(rows) > 0).all()
    np.testing.assert_array_equal(rows, fit_rows(100_000, 10_000))
    np.testing.assert_array_equal(fit_rows(50, 10_000), np.arange(50))


def test_empty_complete_store_from_a_bad_batch_size_is_refilled(digits, tmp_path):
    """A 0-row "complete" store written by an old --batch-size -5 run is not reused."""
    path = embed(digits, "pca:8", tmp_path / "s", progress=False).path
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.pop("shards")  # an old store: no shard records
    manifest["counts"] = {"rows": 1797, "embedded": 0, "skipped": 0}
    (path / "manifest.json").write_text(json.dumps(manifest))
    for shard in (path / "data").glob("*.parquet"):
        shard.unlink()
    store = embed(digits, "pca:8", path, progress=False)
    assert store.manifest["counts"]["embedded"] == 1797 and len(store.to_numpy()[0]) == 1797


# --- issue 16: one worker pool across the shards of an image store -----------------------
class _TinyImage(TorchEncoder):
    """A real (tiny) neural image encoder: 8x8 RGB -> mean colour -> Linear(3, 4)."""

    modality = "image"

    def __init__(self) -> None:
        torch.manual_seed(0)
        self.model, self._dim, self.name = torch.nn.Linear(3, 4), 4, "tiny-image"

    def preprocess(self, item):
        return torch.as_tensor(np.asarray(item.convert("RGB").resize((8, 8)), np.float32)).mean(
            (0, 1)
        )

    def forward(self, batch):
        return self.model(batch)


def test_image_shards_share_one_loader_and_equal_shard_by_shard(tmp_path):
    """Several shards through one DataLoader (workers) give the same store as one shard at
    a time without workers: same ids, vectors, shards, and a corrupt image named or
    skipped in its own shard."""
    good = [{"bytes": _png((i * 9 % 256, i, 0)), "path": f"a/{i}.png"} for i in range(23)]
    items = good[:11] + [{"bytes": _png((0, 0, 0))[:30], "path": "a/broken.png"}] + good[11:]
    feats = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=["a", "b"])}
    )
    ds = datasets.Dataset.from_dict({"image": items, "label": [i % 2 for i in range(24)]}, feats)
    kw = dict(shard_size=5, batch_size=2, progress=False, precision="fp32", on_error="skip")
    piped = embed(ds, _TinyImage(), tmp_path / "piped", num_workers=2, **kw)
    plain = embed(ds, _TinyImage(), tmp_path / "plain", num_workers=0, **kw)
    (Xa, ya), (Xb, yb) = piped.to_numpy(), plain.to_numpy()
    assert piped.ids().tolist() == plain.ids().tolist() == [i for i in range(24) if i != 11]
    np.testing.assert_allclose(Xa, Xb, rtol=0, atol=1e-6)
    assert ya.tolist() == yb.tolist() and len(piped.manifest["shards"]) == 5
    assert [r["id"] for r in piped.manifest["skipped"]] == [11]
    assert [r["id"] for r in plain.manifest["skipped"]] == [11]
    with pytest.raises(DataError, match=r"row 11 .*\(a/broken.png\).*--on-error skip"):
        embed(ds, _TinyImage(), tmp_path / "raise", num_workers=2, **{**kw, "on_error": "raise"})
