"""Fixtures of the evaluation tests: real digits features and stores built with StoreWriter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from reprlearn.store import EmbeddingStore, StoreWriter


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """sklearn digits: X float32 (1797, 64) pixels 0..16, y int64 (1797,)."""
    X, y = load_digits(return_X_y=True)
    return X.astype(np.float32), y.astype(np.int64)


def write_store(
    path: Path,
    X: np.ndarray,
    y: np.ndarray | None,
    encoder: str = "pixels",
    label_names: list[str] | None = None,
) -> EmbeddingStore:
    """A complete store at ``path`` holding ``X`` (and ``y``) in two shards."""
    header = {
        "encoder_name": encoder,
        "source_fingerprint": "test",
        "normalized": False,
        "precision": "fp32",
        "shard_size": 1000,
        "dim": X.shape[1],
        "label_names": label_names
        if label_names is not None or y is None
        else [str(c) for c in range(int(y.max()) + 1)],
    }
    writer = StoreWriter(path, header)
    for i, start in enumerate(range(0, len(X), 1000)):
        sl = slice(start, start + 1000)
        ids = np.arange(len(X))[sl]
        writer.write_shard(i, ids, X[sl], None if y is None else y[sl], [])
    return writer.finish({"source": {"spec": {"source": "digits"}, "num_rows": len(X)}})


@pytest.fixture
def make_store(tmp_path: Path) -> Callable[..., EmbeddingStore]:
    """``make_store(name, X, y, encoder=...)`` -> a store under ``tmp_path/name``."""

    def make(name: str, X: np.ndarray, y: np.ndarray | None, **kw) -> EmbeddingStore:
        return write_store(tmp_path / name, X, y, **kw)

    return make
