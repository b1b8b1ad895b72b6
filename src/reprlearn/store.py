"""The embedding store: Parquet shards + ``manifest.json``, written atomically, resumable.

Layout of a store folder::

    manifest.json        encoder, dim, precision, source fingerprint, counts, versions, timing
    data/part-00000.parquet ...   columns id (int64), label (int64, when known),
                                  embedding (fixed_size_list<float32>[dim])
    encoder/             fitted state of a classical encoder (state.npz + state.json)

``data/`` is a plain Parquet dataset: ``pandas.read_parquet("STORE/data")``,
``polars.read_parquet("STORE/data/*.parquet")`` and duckdb's
``read_parquet('STORE/data/*.parquet')`` read it directly. Each shard is written to a
dot-file and renamed into place, so an interrupted run never leaves a half-written
shard; items skipped in a shard (``--on-error skip``) are kept in that shard's Parquet
metadata, so they survive a resume too.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from reprlearn.errors import StoreError

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
# Keys that must match for a rerun to resume an existing store instead of failing.
IDENTITY_KEYS = ("encoder_name", "source_fingerprint", "normalized", "precision", "shard_size")


def _shard_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def _write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=str))
    os.replace(tmp, path)


@dataclass
class EmbeddingStore:
    """A finished (or partly written) embedding store on disk.

    Attributes:
        path: the store folder.
        manifest: the parsed ``manifest.json``.
    """

    path: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    _table: pa.Table | None = field(default=None, repr=False, compare=False)

    @classmethod
    def open(cls, path: str | Path) -> EmbeddingStore:
        """Open the store at ``path``.

        Raises:
            StoreError: no ``manifest.json`` there, or the run that writes it has not finished.
        """
        path = Path(path)
        if not (path / MANIFEST).is_file():
            raise StoreError(
                f"{path} is not an embedding store (no {MANIFEST}); run `reprlearn embed` first"
            )
        store = cls(path, json.loads((path / MANIFEST).read_text()))
        if store.manifest.get("status") != "complete":
            raise StoreError(
                f"{path} is incomplete (interrupted run?): rerun the same `reprlearn embed` command to resume it"
            )
        return store

    @property
    def dim(self) -> int:
        return int(self.manifest["dim"])

    @property
    def encoder_name(self) -> str:
        return str(self.manifest["encoder_name"])

    @property
    def label_names(self) -> list[str] | None:
        """Class names, index = label id; None when the source has no labels."""
        return self.manifest.get("label_names")

    @property
    def has_labels(self) -> bool:
        return self.label_names is not None

    def shard_paths(self) -> list[Path]:
        return sorted((self.path / "data").glob("part-*.parquet"))

    def table(self) -> pa.Table:
        """All rows as one Arrow table, sorted by ``id`` (read once, then cached)."""
        if self._table is None:
            tables = [pq.read_table(p) for p in self.shard_paths()]
            if not tables:
                raise StoreError(f"{self.path} has no data shards")
            self._table = pa.concat_tables(tables).sort_by("id")
        return self._table

    def to_numpy(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Returns ``(X, y)``: float32 ``(n, dim)`` and int64 ``(n,)`` (None without labels)."""
        table = self.table()
        emb = table.column("embedding").combine_chunks()
        X = emb.values.to_numpy(zero_copy_only=False).reshape(len(table), self.dim)
        y = table.column("label").to_numpy() if "label" in table.column_names else None
        return np.ascontiguousarray(X, dtype=np.float32), y

    def ids(self) -> np.ndarray:
        """Source row ids, int64 ``(n,)``, in the same order as :meth:`to_numpy`."""
        return self.table().column("id").to_numpy()

    def __len__(self) -> int:
        return sum(pq.read_metadata(p).num_rows for p in self.shard_paths())

    def search(self, query: str | list[str], k: int = 10):
        """The ``k`` items nearest to ``query`` (a text, an image path, ``"id:N"`` or a list
        of ids): :func:`reprlearn.search.search` on this store."""
        from reprlearn.search.query import search

        return search(self, query, k)

    def summary(self) -> dict[str, Any]:
        """Short facts for a terminal summary."""
        m = self.manifest
        return {
            "store": str(self.path),
            "encoder": m["encoder_name"],
            "rows": m["counts"]["embedded"],
            "dim": m["dim"],
            "skipped": m["counts"]["skipped"],
            "labels": len(m["label_names"]) if m.get("label_names") else 0,
            "normalized": m["normalized"],
            "precision": m["precision"],
            "device": m.get("device"),
            "items_per_s": round(m.get("timing", {}).get("items_per_s", 0.0), 1),
        }


def find_complete(path: str | Path, header: dict[str, Any]) -> EmbeddingStore | None:
    """The finished store at ``path`` when it was made with the same :data:`IDENTITY_KEYS`
    as ``header`` (so a rerun can reuse it as is), else None."""
    manifest_path = Path(path) / MANIFEST
    if not manifest_path.is_file():
        return None
    manifest = json.loads(manifest_path.read_text())
    same = all(manifest.get(k) == header.get(k) for k in IDENTITY_KEYS)
    return (
        EmbeddingStore(Path(path), manifest)
        if same and manifest.get("status") == "complete"
        else None
    )


class StoreWriter:
    """Writes an :class:`EmbeddingStore` shard by shard; resumes an interrupted store.

    Args:
        path: the store folder.
        header: manifest fields known before embedding; the :data:`IDENTITY_KEYS` among
            them must match an existing store's to resume it.
        overwrite: delete an existing store at ``path`` first.

    Raises:
        StoreError: ``path`` holds a store of another encoder/source/settings and
            ``overwrite`` is False (the message says which field differs).
    """

    def __init__(self, path: str | Path, header: dict[str, Any], overwrite: bool = False) -> None:
        self.path = Path(path)
        if overwrite and self.path.exists():
            shutil.rmtree(self.path)
        self.manifest = {"format_version": FORMAT_VERSION, **header}
        existing = self.path / MANIFEST
        if existing.is_file():
            old = json.loads(existing.read_text())
            for key in IDENTITY_KEYS:
                if old.get(key) != header.get(key):
                    raise StoreError(
                        f"{self.path} already holds a store with {key}={old.get(key)!r}, "
                        f"not {header.get(key)!r}; a store never mixes encoders or sources: "
                        "pass --overwrite to start afresh, or choose another --out"
                    )
            self.manifest["created"] = old.get("created")
        elif self.path.exists() and any(self.path.iterdir()):
            raise StoreError(
                f"{self.path} exists and is not an embedding store; choose another --out or pass --overwrite"
            )
        self.manifest.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        self.manifest["status"] = "running"
        (self.path / "data").mkdir(parents=True, exist_ok=True)
        _write_json_atomic(existing, self.manifest)

    @property
    def encoder_state_dir(self) -> Path:
        return self.path / "encoder"

    def done(self, index: int) -> bool:
        """True when shard ``index`` was completely written by this or an earlier run."""
        return (self.path / "data" / _shard_name(index)).is_file()

    def write_shard(
        self,
        index: int,
        ids: np.ndarray,
        embeddings: np.ndarray,
        labels: np.ndarray | None,
        skipped: list[dict[str, Any]],
    ) -> None:
        """Atomically write shard ``index``: ``ids`` int64 ``(n,)``, ``embeddings`` float32
        ``(n, dim)``, ``labels`` int64 ``(n,)`` or None, ``skipped`` = [{id, reason}]."""
        n, dim = embeddings.shape
        flat = pa.array(np.ascontiguousarray(embeddings, dtype=np.float32).reshape(-1))
        columns = {"id": pa.array(ids.astype(np.int64))}
        if labels is not None:
            columns["label"] = pa.array(labels.astype(np.int64))
        columns["embedding"] = pa.FixedSizeListArray.from_arrays(flat, dim)
        table = pa.table(columns).replace_schema_metadata(
            {"reprlearn.skipped": json.dumps(skipped)}
        )
        final = self.path / "data" / _shard_name(index)
        tmp = final.with_name(f".{final.name}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, final)

    def finish(self, extra: dict[str, Any]) -> EmbeddingStore:
        """Collect counts and skipped items from all shards, mark the store complete."""
        skipped: list[dict[str, Any]] = []
        embedded = 0
        for shard in sorted((self.path / "data").glob("part-*.parquet")):
            meta = pq.read_metadata(shard)
            embedded += meta.num_rows
            raw = (meta.metadata or {}).get(b"reprlearn.skipped", b"[]")
            skipped.extend(json.loads(raw))
        self.manifest.update(extra)
        self.manifest["counts"] = {
            "rows": self.manifest.get("source", {}).get("num_rows"),
            "embedded": embedded,
            "skipped": len(skipped),
        }
        self.manifest["skipped"] = skipped
        self.manifest["status"] = "complete"
        _write_json_atomic(self.path / MANIFEST, self.manifest)
        return EmbeddingStore(self.path, self.manifest)
