"""Shared fixtures: real data (sklearn digits) and embedding stores built with StoreWriter."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from reprlearn.store import EmbeddingStore, StoreWriter

SHARED_DATA = Path(
    os.environ.get("REPRLEARN_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
)


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits as float32 pixel vectors (1797, 64) and labels (1797,)."""
    X, y = load_digits(return_X_y=True)
    return X.astype(np.float32), y.astype(np.int64)


def write_store(
    path: Path,
    X: np.ndarray,
    y: np.ndarray | None,
    *,
    label_names: list[str] | None,
    spec: dict | None,
    num_rows: int | None = None,
    ids: np.ndarray | None = None,
    encoder_name: str = "pixels",
    shard_size: int = 500,
) -> EmbeddingStore:
    """An embedding store as ``embed`` writes it, from arrays (no encoder involved)."""
    ids = np.arange(len(X)) if ids is None else ids
    header = {
        "encoder_name": encoder_name,
        "dim": X.shape[1],
        "label_names": label_names,
        "source": {"spec": spec, "fingerprint": "test", "num_rows": num_rows or len(X)},
        "normalized": False,
        "precision": "fp32",
        "shard_size": shard_size,
    }
    writer = StoreWriter(path, header)
    for shard, start in enumerate(range(0, len(X), shard_size)):
        part = slice(start, start + shard_size)
        labels = None if y is None else y[part]
        writer.write_shard(shard, ids[part], X[part].astype(np.float32), labels, [])
    return writer.finish({"timing": {"items_per_s": 0.0, "seconds": 0.0}})


@pytest.fixture(scope="session")
def make_store():
    """:func:`write_store`, for tests that build their own store."""
    return write_store


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or ``$REPRLEARN_SHARED_DATA``); skips the test where absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the shared datasets at {SHARED_DATA} (absent in a fresh clone)")
    return SHARED_DATA.resolve()


@pytest.fixture(scope="session")
def digits_store(tmp_path_factory, digits) -> EmbeddingStore:
    """Pixel embeddings of the digits, source ``digits`` (reloadable: thumbnails)."""
    X, y = digits
    return write_store(
        tmp_path_factory.mktemp("stores") / "digits-pixels",
        X,
        y,
        label_names=[str(i) for i in range(10)],
        spec={"source": "digits"},
    )
