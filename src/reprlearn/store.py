"""The embedding store: Parquet shards + ``manifest.json``, written atomically, resumable.

Layout of a store folder::

    manifest.json        encoder, dim, precision, source fingerprint, counts, versions,
                         timing, and one record per shard (rows, skipped, bytes, sha256)
    data/part-00000.parquet ...   columns id (int64), label (int64, when known),
                                  embedding (fixed_size_list<float32>[dim])
    encoder/             fitted state of a classical encoder (state.npz + state.json)
    .reprlearn.json      marks the folder as a reprlearn store (see reprlearn.outdir)
    .lock                present while a writer runs (its pid and host)

``data/`` is a plain Parquet dataset: ``pandas.read_parquet("STORE/data")``,
``polars.read_parquet("STORE/data/*.parquet")`` and duckdb's
``read_parquet('STORE/data/*.parquet')`` read it directly. Each shard is written to a
dot-file and renamed into place, so an interrupted run never leaves a half-written
shard; items skipped in a shard (``--on-error skip``) are kept in that shard's Parquet
metadata, so they survive a resume too.

Integrity: the manifest records each shard's row count, byte size and SHA-256.
:meth:`EmbeddingStore.open` checks the cheap facts (every shard present, none extra,
sizes and Parquet row counts as recorded: metadata reads only, milliseconds), and
:meth:`EmbeddingStore.table` checks each shard's SHA-256 on the bytes it reads anyway.
``embed`` checks the full hashes before it reuses a store and re-embeds only the shards
that fail. Stores written before these records existed are read as before, unchecked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from reprlearn.errors import StoreError
from reprlearn.outdir import lock_holder, prepare_out_dir, write_json_atomic, writer_lock
from reprlearn.store_identity import identity_change, same_space

MANIFEST = "manifest.json"
FORMAT_VERSION = 2
# Keys that must match for a rerun to resume an existing store instead of failing. A key
# missing from an older store's manifest (written before the key existed) is not compared.
IDENTITY_KEYS = (
    "encoder_name",
    "source_fingerprint",
    "normalized",
    "precision",
    "shard_size",
    "weights_fingerprint",
    "fitted_from",
)
# keys every complete store's manifest has
COMPLETE_KEYS = ("encoder_name", "dim", "counts")
_REPAIR = (
    "rerun the same `reprlearn embed` command to repair it (only damaged shards are re-embedded)"
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "EmbeddingStore",
    "RowBatch",
    "StoreSample",
    "default_max_rows",
    "StoreWriter",
    "find_complete",
    "read_manifest",
    "same_space",
    "shard_name",
]


# Rows a reader streams at once (iter_batches): 65,536 x 768 float32 = 192 MiB at most.
BATCH_ROWS = 65_536
# Vectors a bounded reader (inspect, probe) loads whole by default: 1 GiB of float32.
DEFAULT_MAX_BYTES = 2**30
# ... and never more than this many rows, whatever the dim.
DEFAULT_MAX_ROWS = 1_000_000
_COLUMNS = ("id", "label", "embedding")
_HASH_BLOCK = 8 * 2**20


def default_max_rows(dim: int) -> int:
    """Rows a bounded reader loads by default for vectors of ``dim``: as many as fit in
    :data:`DEFAULT_MAX_BYTES` (1 GiB of float32), at most :data:`DEFAULT_MAX_ROWS` (1e6);
    e.g. 699,050 rows at dim 384, 349,525 at dim 768."""
    return int(max(1, min(DEFAULT_MAX_ROWS, DEFAULT_MAX_BYTES // (4 * max(1, dim)))))


@dataclass
class RowBatch:
    """Consecutive rows of one shard (:meth:`EmbeddingStore.iter_batches`).

    Attributes:
        ids: int64 ``(n,)`` source row ids, or None when ``id`` was not asked for.
        X: float32 ``(n, dim)`` embeddings, or None when ``embedding`` was not asked for.
        labels: int64 ``(n,)``, or None (not asked for, or a store without labels).
        shard: the shard's file name; start: the row of the batch's first row within
            the whole store (file order).
    """

    ids: np.ndarray | None
    X: np.ndarray | None
    labels: np.ndarray | None
    shard: str
    start: int

    def __len__(self) -> int:
        return len(next(a for a in (self.ids, self.X, self.labels) if a is not None))


@dataclass
class StoreSample:
    """Rows of a store loaded with a bound (:meth:`EmbeddingStore.sample` /
    :meth:`EmbeddingStore.load_bounded`), sorted by id, and what was sampled.

    Attributes:
        X: float32 ``(n, dim)``; y: int64 ``(n,)`` or None; ids: int64 ``(n,)``.
        total: rows in the store; seed: seed of the sample (None when every row was
            loaded); max_rows: the cap that applied.
    """

    X: np.ndarray
    y: np.ndarray | None
    ids: np.ndarray
    total: int
    seed: int | None
    max_rows: int

    @property
    def sampled(self) -> bool:
        """True when fewer than all rows were loaded."""
        return len(self.ids) < self.total

    def record(self) -> dict[str, Any]:
        """What was loaded, for a manifest or result JSON: ``{"rows", "of", "sampled",
        "seed", "max_rows", "method"}``."""
        return {
            "rows": len(self.ids),
            "of": self.total,
            "sampled": self.sampled,
            "seed": self.seed,
            "max_rows": self.max_rows,
            "method": "uniform without replacement" if self.sampled else "all rows",
        }

    def note(self) -> str | None:
        """One line for the user when rows were sampled, else None."""
        if not self.sampled:
            return None
        return (
            f"sampled {len(self.ids):,} of {self.total:,} rows (uniform, seed {self.seed}) to "
            f"bound memory; pass --max-rows {self.total} to use every row"
        )


def shard_name(index: int) -> str:
    """File name of shard ``index`` inside ``STORE/data``."""
    return f"part-{index:05d}.parquet"


def read_manifest(
    path: str | Path, required: tuple[str, ...] = ("encoder_name",)
) -> dict[str, Any]:
    """The parsed ``manifest.json`` of the store folder ``path``.

    Raises:
        StoreError: no manifest; not valid JSON (truncated); not a JSON object; a
            ``required`` key missing. The message names the file and the fix.
    """
    file = Path(path) / MANIFEST
    if not file.is_file():
        raise StoreError(
            f"{path} is not an embedding store (no {MANIFEST}); run `reprlearn embed` first"
        )
    fix = "rerun `reprlearn embed` with --overwrite to rebuild the store"
    try:
        manifest = json.loads(file.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise StoreError(f"{file} is not valid JSON (truncated or edited? {e}); {fix}") from None
    if not isinstance(manifest, dict):
        raise StoreError(f"{file} holds a JSON {type(manifest).__name__}, not an object; {fix}")
    missing = [k for k in required if k not in manifest]
    if missing:
        raise StoreError(f"{file} lacks {', '.join(map(repr, missing))}; {fix}")
    return manifest


def _records(manifest: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    shards = manifest.get("shards")
    return shards if isinstance(shards, dict) else None


def _shard_record(path: Path, rows: int, skipped: int) -> dict[str, Any]:
    data = path.read_bytes()
    return {
        "rows": rows,
        "skipped": skipped,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def shard_problems(path: str | Path, manifest: dict[str, Any], *, full: bool) -> list[str]:
    """What is wrong with the data shards of the store at ``path``, one phrase per shard
    (empty: intact). Checks presence, extra files, byte size and Parquet row count
    against the manifest's records; with ``full``, the SHA-256 of every shard too.
    Stores without shard records (written before format 2) are not checked."""
    records = _records(manifest)
    if records is None:
        return []
    data = Path(path) / "data"
    on_disk = {p.name for p in data.glob("part-*.parquet")}
    problems = [f"shard data/{n} is missing" for n in sorted(set(records) - on_disk)]
    problems += [f"data/{n} is not listed in the manifest" for n in sorted(on_disk - set(records))]
    for name in sorted(set(records) & on_disk):
        if (why := _shard_problem(data / name, records[name], full)) is not None:
            problems.append(f"shard data/{name} {why}")
    return problems


def _shard_problem(file: Path, record: dict[str, Any], full: bool) -> str | None:
    if file.stat().st_size != record.get("bytes"):
        return f"has {file.stat().st_size} bytes, the manifest says {record.get('bytes')}"
    try:
        rows = pq.read_metadata(file).num_rows
    except (OSError, pa.ArrowException):
        return "is not a readable Parquet file"
    if rows != record.get("rows"):
        return f"has {rows} rows, the manifest says {record.get('rows')}"
    if full and hashlib.sha256(file.read_bytes()).hexdigest() != record.get("sha256"):
        return "was altered (its SHA-256 differs from the manifest's)"
    return None


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
        """Open the store at ``path`` and check its shards against the manifest (presence,
        extra files, sizes, row counts; the SHA-256s are checked when :meth:`table` reads).

        Raises:
            StoreError: no or malformed ``manifest.json``; the run that writes it has not
                finished (names the writer's pid when it is still running); a shard missing, extra, shorter or altered (names the shard and
                says to rerun ``embed``, which repairs it).
        """
        path = Path(path)
        store = cls(path, read_manifest(path))
        if store.manifest.get("status") != "complete":
            if (writer := lock_holder(path)) is not None:
                raise StoreError(
                    f"{path} is being written by another process (pid {writer.get('pid')} on "
                    f"{writer.get('host')}, since {writer.get('started')}); wait for it to finish"
                )
            raise StoreError(
                f"{path} is incomplete (interrupted run?): rerun the same `reprlearn embed` command to resume it"
            )
        read_manifest(path, required=COMPLETE_KEYS)
        problems = shard_problems(path, store.manifest, full=False)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise StoreError(f"{path} is damaged: {problems[0]}{more}; {_REPAIR}")
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
        """All rows as one Arrow table, sorted by ``id`` (read once, then cached).

        Raises:
            StoreError: no shards, or a shard whose SHA-256 differs from the manifest's.
        """
        if self._table is None:
            records = _records(self.manifest) or {}
            tables = []
            for p in self.shard_paths():
                data = p.read_bytes()
                expected = records.get(p.name, {}).get("sha256")
                if expected is not None and hashlib.sha256(data).hexdigest() != expected:
                    raise StoreError(
                        f"{self.path} is damaged: shard data/{p.name} was altered (its SHA-256 "
                        f"differs from the manifest's); {_REPAIR}"
                    )
                tables.append(pq.read_table(pa.BufferReader(data)))
            if not tables:
                raise StoreError(f"{self.path} has no data shards; {_REPAIR}")
            self._table = _sorted_by_id(pa.concat_tables(tables))
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

    def _check_hash(self, path: Path) -> None:
        """Raise :class:`StoreError` when ``path``'s SHA-256 (read in 8 MiB blocks)
        differs from the manifest's record; no record: nothing to check."""
        expected = (_records(self.manifest) or {}).get(path.name, {}).get("sha256")
        if expected is None:
            return
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(_HASH_BLOCK):
                h.update(block)
        if h.hexdigest() != expected:
            raise StoreError(
                f"{self.path} is damaged: shard data/{path.name} was altered (its SHA-256 "
                f"differs from the manifest's); {_REPAIR}"
            )

    def iter_batches(
        self,
        batch_size: int = BATCH_ROWS,
        columns: Sequence[str] = _COLUMNS,
        *,
        verify: bool = True,
    ) -> Iterator[RowBatch]:
        """Stream the store's rows in file order (shard by shard, row group by row group,
        ``pyarrow.parquet.ParquetFile.iter_batches``), never holding more than one batch.

        Args:
            batch_size: rows per batch (default 65,536); a batch never spans two shards.
            columns: which of ``id``, ``label``, ``embedding`` to read (default all; a
                store without labels yields ``labels=None``).
            verify: check each shard's SHA-256 against the manifest before reading it
                (a second, streamed read of the file; default True).

        Yields:
            :class:`RowBatch` (``ids`` int64 ``(n,)``, ``X`` float32 ``(n, dim)``,
            ``labels`` int64 ``(n,)``; the columns not asked for are None).

        Raises:
            StoreError: an unknown column or ``batch_size < 1``; no shards; a shard whose
                SHA-256 differs from the manifest's (names it; rerun ``embed``).
        """
        unknown = sorted(set(columns) - set(_COLUMNS))
        if unknown or batch_size < 1:
            raise StoreError(
                f"iter_batches: columns must be among {', '.join(_COLUMNS)} (got "
                f"{', '.join(unknown) or list(columns)}) and batch_size >= 1 (got {batch_size})"
            )
        paths = self.shard_paths()
        if not paths:
            raise StoreError(f"{self.path} has no data shards; {_REPAIR}")
        start = 0
        for path in paths:
            if verify:
                self._check_hash(path)
            file = pq.ParquetFile(path)
            wanted = [c for c in columns if c in file.schema_arrow.names]
            for batch in file.iter_batches(batch_size=batch_size, columns=wanted):
                yield self._row_batch(batch, path.name, start)
                start += batch.num_rows

    def _row_batch(self, batch: pa.RecordBatch, shard: str, start: int) -> RowBatch:
        names = batch.schema.names

        def column(name: str) -> np.ndarray | None:
            if name not in names:
                return None
            return np.array(batch.column(names.index(name)).to_numpy(), dtype=np.int64)

        X = None
        if "embedding" in names:
            emb = batch.column(names.index("embedding"))
            X = np.array(emb.flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
            X = X.reshape(len(emb), self.dim)
        return RowBatch(column("id"), X, column("label"), shard, start)

    def sample(self, n: int, seed: int = 0) -> StoreSample:
        """``n`` rows drawn uniformly without replacement (seeded), read by streaming so
        memory holds the ``n`` rows plus one batch; sorted by id. ``n`` at or above the
        store's size loads every row.

        Args:
            n: rows wanted (>= 1). seed: seed of ``numpy.random.default_rng``.

        Returns:
            :class:`StoreSample`; its :meth:`~StoreSample.record` says what was sampled.

        Raises:
            StoreError: ``n < 1``; a damaged shard (see :meth:`iter_batches`).
        """
        if n < 1:
            raise StoreError(f"sample: n={n}; ask for 1 row or more (e.g. --max-rows 100000)")
        total = len(self)
        if n >= total:
            positions = np.arange(total)
            used_seed = None
        else:
            positions = np.sort(np.random.default_rng(seed).choice(total, n, replace=False))
            used_seed = seed
        X = np.empty((len(positions), self.dim), dtype=np.float32)
        ids = np.empty(len(positions), dtype=np.int64)
        labelled = "label" in pq.read_schema(self.shard_paths()[0]).names
        y = np.empty(len(positions), dtype=np.int64) if labelled else None
        done = 0
        for batch in self.iter_batches():
            lo, hi = np.searchsorted(positions, [batch.start, batch.start + len(batch)])
            if hi == lo:
                continue
            rows = positions[lo:hi] - batch.start
            X[done : done + len(rows)] = batch.X[rows]
            ids[done : done + len(rows)] = batch.ids[rows]
            if y is not None and batch.labels is not None:
                y[done : done + len(rows)] = batch.labels[rows]
            done += len(rows)
        order = np.argsort(ids, kind="stable")
        y = None if y is None else y[order]
        return StoreSample(X[order], y, ids[order], total, used_seed, n)

    def load_bounded(self, max_rows: int | None = None, seed: int = 0) -> StoreSample:
        """Every row when the store has at most ``max_rows``, else a seeded uniform
        sample of ``max_rows`` (:meth:`sample`), so a reader never loads more than a
        bounded amount; sorted by id.

        Args:
            max_rows: the cap (default :func:`default_max_rows` of the store's dim: 1 GiB
                of float32, at most 1e6 rows). seed: seed of the sample.

        Raises:
            StoreError: ``max_rows < 1``; a damaged shard.
        """
        cap = default_max_rows(self.dim) if max_rows is None else int(max_rows)
        if cap < 1:
            raise StoreError(f"--max-rows {cap}: give 1 or more rows")
        if len(self) > cap:
            return self.sample(cap, seed)
        X, y = self.to_numpy()
        return StoreSample(X, y, self.ids(), len(X), None, cap)

    def search(self, query: str | list[str], k: int = 10):
        """The ``k`` items nearest to ``query`` (a text, an image path, ``"id:N"`` or a list
        of ids): :func:`reprlearn.search.search` on this store."""
        from reprlearn.search.query import search

        return search(self, query, k)

    def summary(self) -> dict[str, Any]:
        """Short facts for a terminal summary (``items_per_s`` None when nothing was
        embedded in the last run, e.g. a resume that found every shard written)."""
        m = self.manifest
        speed = (m.get("timing") or {}).get("items_per_s")
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
            "items_per_s": None if speed is None else round(speed, 1),
            **({"fitted_from": m["fitted_from"]} if m.get("fitted_from") else {}),
        }


def _sorted_by_id(table: pa.Table) -> pa.Table:
    """``table`` sorted by its ``id`` column; as it is (no copy) when already sorted, as
    the shards of a finished store are: sorting copies every embedding (164 MB for 10,000
    4,096-d rows)."""
    ids = table.column("id").to_numpy()
    if len(ids) < 2 or bool((ids[1:] >= ids[:-1]).all()):
        return table
    return table.sort_by("id")


def expected_shards(num_rows: int, shard_size: int) -> dict[str, int]:
    """Shard name -> number of source rows it covers, for ``num_rows`` rows."""
    return {
        shard_name(i): min(num_rows, (i + 1) * shard_size) - i * shard_size
        for i in range(math.ceil(num_rows / shard_size))
    }


def find_complete(path: str | Path, header: dict[str, Any]) -> EmbeddingStore | None:
    """The finished, intact store at ``path`` when it was made with the same
    :data:`IDENTITY_KEYS` as ``header`` (so a rerun can reuse it as is), else None.
    Intact: its counts cover every source row, and every shard is present with its
    recorded row count and SHA-256 (a full hash).

    Raises:
        StoreError: a malformed manifest (names the file and the fix).
    """
    if not (Path(path) / MANIFEST).is_file():
        return None
    manifest = read_manifest(path)
    if manifest.get("status") != "complete":
        return None
    read_manifest(path, required=COMPLETE_KEYS)
    if identity_change(manifest, header, IDENTITY_KEYS):
        return None
    records = _records(manifest)
    num_rows = int(header["source"]["num_rows"])
    counts = manifest["counts"] if isinstance(manifest["counts"], dict) else {}
    if counts.get("embedded", 0) + counts.get("skipped", 0) != num_rows:
        return None  # e.g. a 0-row "complete" store left by a bad --batch-size in older versions
    if records is not None:
        expected = expected_shards(num_rows, int(header["shard_size"]))
        covered = {n: r.get("rows", 0) + r.get("skipped", 0) for n, r in records.items()}
        if covered != expected or shard_problems(path, manifest, full=True):
            return None
    return EmbeddingStore(Path(path), manifest)


class StoreWriter:
    """Writes an :class:`EmbeddingStore` shard by shard; resumes or repairs a store.

    Holds the folder's writer lock (:func:`reprlearn.outdir.writer_lock`) from
    construction until :meth:`finish` or :meth:`close` (also a context manager), so a
    second writer is refused naming this one. A store whose earlier run completed no
    shard (e.g. its fit failed) is replaced without ``overwrite``.

    Args:
        path: the store folder.
        header: manifest fields known before embedding; the :data:`IDENTITY_KEYS` among
            them must match an existing store's to resume it.
        overwrite: replace an existing store at ``path`` first (only a reprlearn store,
            never the working directory or its parents, see :func:`prepare_out_dir`).

    Raises:
        StoreError: ``path`` holds a store made differently (the message says what
            changed, in words) and ``overwrite`` is False; a malformed manifest.
        OutputError: ``path`` holds files reprlearn did not write, or another process is
            writing it (names its pid and host).
    """

    def __init__(self, path: str | Path, header: dict[str, Any], overwrite: bool = False) -> None:
        self.path = prepare_out_dir(path, kind="store", overwrite=overwrite)
        self._lock = contextlib.ExitStack()
        self._lock.enter_context(writer_lock(self.path))
        try:
            self._start(header)
        except BaseException:
            self.close()
            raise

    def _start(self, header: dict[str, Any]) -> None:
        self.manifest = {"format_version": FORMAT_VERSION, **header}
        self.records: dict[str, dict[str, Any]] = {}
        old = read_manifest(self.path) if (self.path / MANIFEST).is_file() else None
        if old is not None and not self._has_work(old):
            old = None  # nothing completed (a failed fit): start afresh, no --overwrite needed
            shutil.rmtree(self.path / "data", ignore_errors=True)
            shutil.rmtree(self.encoder_state_dir, ignore_errors=True)
        self.previous: dict[str, Any] = old or {}
        if old is not None:
            if (why := identity_change(old, header, IDENTITY_KEYS)) is not None:
                raise StoreError(
                    f"{self.path} holds a store that does not match this command: {why}. "
                    "A store never mixes encoders, sources or settings: pass --overwrite to "
                    "replace it, or choose another --out"
                )
            self.manifest["created"] = old.get("created")
            self.records = dict(_records(old) or {})
        self.manifest.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        self.manifest["status"] = "running"
        (self.path / "data").mkdir(parents=True, exist_ok=True)
        self._save()

    def _has_work(self, old: dict[str, Any]) -> bool:
        return (
            old.get("status") == "complete"
            or bool(_records(old))
            or any((self.path / "data").glob("part-*.parquet"))
        )

    def _save(self) -> None:
        self.manifest["shards"] = dict(sorted(self.records.items()))
        write_json_atomic(self.path / MANIFEST, self.manifest)

    def close(self) -> None:
        """Release the writer lock (the store stays as written; a rerun resumes it)."""
        self._lock.close()

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def encoder_state_dir(self) -> Path:
        return self.path / "encoder"

    def done(self, index: int, rows: int | None = None) -> bool:
        """True when shard ``index`` was written by this or an earlier run and is intact:
        recorded in the manifest, same size and SHA-256, and (when given) covering
        ``rows`` source rows (embedded + skipped). A shard that fails is re-embedded."""
        name = shard_name(index)
        file, record = self.path / "data" / name, self.records.get(name)
        if record is None or not file.is_file():
            return False
        if rows is not None and record.get("rows", 0) + record.get("skipped", 0) != rows:
            return False
        return _shard_problem(file, record, full=True) is None

    def remove_extra_shards(self, keep: set[str]) -> None:
        """Delete shard files (and records) of this store not named in ``keep``."""
        for p in (self.path / "data").glob("part-*.parquet"):
            if p.name not in keep:
                p.unlink()
        self.records = {k: v for k, v in self.records.items() if k in keep}

    def write_shard(
        self,
        index: int,
        ids: np.ndarray,
        embeddings: np.ndarray,
        labels: np.ndarray | None,
        skipped: list[dict[str, Any]],
    ) -> None:
        """Atomically write shard ``index``: ``ids`` int64 ``(n,)``, ``embeddings`` float32
        ``(n, dim)``, ``labels`` int64 ``(n,)`` or None, ``skipped`` = [{id, reason}];
        then record its rows, size and SHA-256 in the manifest."""
        n, dim = embeddings.shape
        flat = pa.array(np.ascontiguousarray(embeddings, dtype=np.float32).reshape(-1))
        columns = {"id": pa.array(ids.astype(np.int64))}
        if labels is not None:
            columns["label"] = pa.array(labels.astype(np.int64))
        columns["embedding"] = pa.FixedSizeListArray.from_arrays(flat, dim)
        table = pa.table(columns).replace_schema_metadata(
            {"reprlearn.skipped": json.dumps(skipped)}
        )
        final = self.path / "data" / shard_name(index)
        tmp = final.with_name(f".{final.name}.tmp")
        pq.write_table(table, tmp)
        record = _shard_record(tmp, n, len(skipped))
        tmp.replace(final)
        self.records[final.name] = record
        self._save()

    def finish(self, extra: dict[str, Any]) -> EmbeddingStore:
        """Collect counts and skipped items from all shards, mark the store complete,
        release the writer lock."""
        skipped: list[dict[str, Any]] = []
        embedded = 0
        for shard in sorted((self.path / "data").glob("part-*.parquet")):
            meta = pq.read_metadata(shard)
            embedded += meta.num_rows
            items = json.loads((meta.metadata or {}).get(b"reprlearn.skipped", b"[]"))
            skipped.extend(items)
            if shard.name not in self.records:  # written by a run before shard records
                self.records[shard.name] = _shard_record(shard, meta.num_rows, len(items))
        self.manifest.update(extra)
        self.manifest["counts"] = {
            "rows": self.manifest.get("source", {}).get("num_rows"),
            "embedded": embedded,
            "skipped": len(skipped),
        }
        self.manifest["skipped"] = skipped
        self.manifest["status"] = "complete"
        self._save()
        self.close()
        return EmbeddingStore(self.path, self.manifest)
