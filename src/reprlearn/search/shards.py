"""Reading an embedding store shard by shard, and the store's content fingerprint.

An index is built and checked without loading the whole store: each Parquet shard is
read on its own (``id``, ``label``, ``embedding`` columns) and dropped before the next.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from reprlearn.errors import StoreError
from reprlearn.store import EmbeddingStore

# Bytes read at once when hashing a shard.
_HASH_BLOCK = 8 * 2**20


@dataclass
class Shard:
    """One shard's rows: ``ids`` int64 ``(n,)``, ``X`` float32 ``(n, dim)``, ``labels``
    int64 ``(n,)`` or None."""

    ids: np.ndarray
    X: np.ndarray
    labels: np.ndarray | None


def read_shard(path: Path, dim: int) -> Shard:
    """Read one Parquet shard of a store into numpy arrays."""
    table = pq.read_table(path)
    emb = table.column("embedding").combine_chunks()
    X = emb.values.to_numpy(zero_copy_only=False).reshape(len(table), dim)
    labels = table.column("label").to_numpy() if "label" in table.column_names else None
    ids = table.column("id").to_numpy().astype(np.int64)
    return Shard(ids, np.array(X, dtype=np.float32, order="C"), labels)  # writable copy


def iter_shards(store: EmbeddingStore) -> Iterator[Shard]:
    """The store's shards in file order, one at a time.

    Raises:
        StoreError: the store has no data shards.
    """
    paths = store.shard_paths()
    if not paths:
        raise StoreError(f"{store.path} has no data shards; rerun `reprlearn embed`")
    for path in paths:
        yield read_shard(path, store.dim)


def store_fingerprint(store: EmbeddingStore) -> str:
    """SHA-256 over the shards' names and bytes: changes whenever a shard is added,
    removed or rewritten (an index records it to detect a changed store). Stores that
    record each shard's SHA-256 in the manifest are fingerprinted from those records
    (``EmbeddingStore.open`` checks them against the files); older ones by hashing."""
    h = hashlib.sha256()
    records = store.manifest.get("shards")
    if isinstance(records, dict) and all("sha256" in r for r in records.values()):
        for name in sorted(records):
            h.update(f"{name}:{records[name]['sha256']}".encode())
        return h.hexdigest()
    for path in store.shard_paths():
        h.update(path.name.encode())
        with open(path, "rb") as f:
            while block := f.read(_HASH_BLOCK):
                h.update(block)
    return h.hexdigest()


def normalize_rows(X: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero); float32 ``(n, dim)``."""
    X = np.asarray(X, dtype=np.float32)
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
