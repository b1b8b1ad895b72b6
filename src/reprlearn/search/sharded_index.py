"""A sharded IVF-PQ index: trained once, filled part by part, searched over all parts.

For stores larger than memory (autofaiss's distributed recipe, criteo/autofaiss
``build_partitioned_indexes``): the IVF coarse quantiser and the PQ codebooks are
trained once on a sample; then the store is streamed batch by batch
(:meth:`reprlearn.store.EmbeddingStore.iter_batches`) into copies of that trained,
empty index (``faiss.clone_index``), and each copy is written as one part
(``STORE/index/part-00000.faiss`` ...) as soon as it holds ``part_rows`` vectors and is
then dropped, so building holds one part in memory. Searching opens every part
memory-mapped (``faiss.IO_FLAG_MMAP``) behind one ``faiss.IndexShards`` with successive
ids, which searches each part and merges their top-k lists into one; FAISS ids are row
positions in store file order, mapped to store ids through ``ids.npy`` (memory-mapped).
Since all parts share one quantiser and codebooks, the merged result equals a single
index holding every vector.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from reprlearn.errors import StoreError
from reprlearn.search.metric import prepare_vectors
from reprlearn.store import EmbeddingStore

PART_PATTERN = "part-{:05d}.faiss"


def _faiss():
    from reprlearn.search.index import import_faiss

    return import_faiss()


def _chunks(store: EmbeddingStore, part_rows: int) -> Iterator[tuple[np.ndarray, np.ndarray, bool]]:
    """``(X, ids, last_of_part)`` pieces of the store's batches, cut so that every
    ``part_rows`` rows end a part."""
    filled = 0
    for batch in store.iter_batches(columns=("id", "embedding")):
        lo = 0
        while lo < len(batch):
            hi = min(len(batch), lo + part_rows - filled)
            filled += hi - lo
            yield batch.X[lo:hi], batch.ids[lo:hi], filled == part_rows
            filled %= part_rows
            lo = hi


def add_in_parts(
    trained, store: EmbeddingStore, metric: str, part_rows: int, out: Path
) -> tuple[list[str], np.ndarray]:
    """Fill copies of the ``trained`` (empty) FAISS index with the store's vectors,
    ``part_rows`` per part, writing each to ``out/part-NNNNN.faiss`` (atomically, via a
    dot-file) before the next starts.

    Args:
        trained: a trained, empty FAISS index (e.g. ``IVF1024,PQ16x8``).
        store: the store, streamed batch by batch. metric: cosine / ip / l2 (cosine
            vectors are normalised here). part_rows: vectors per part (>= 1).
        out: the index folder.

    Returns:
        ``(part file names, ids)``: ids int64 ``(n,)`` store id of each FAISS row, in
        part order (row ``r`` of part ``p`` is global row ``p * part_rows + r``).

    Raises:
        StoreError: ``part_rows < 1``; a damaged shard.
    """
    if part_rows < 1:
        raise StoreError(f"--part-rows {part_rows}: give 1 or more vectors per part")
    faiss = _faiss()
    names: list[str] = []
    ids: list[np.ndarray] = []
    part = None
    for X, batch_ids, last in _chunks(store, part_rows):
        if part is None:
            part = faiss.clone_index(trained)
        part.add(prepare_vectors(X, metric))
        ids.append(batch_ids)
        if last:
            names.append(_write_part(part, out, len(names)))
            part = None
    if part is not None:
        names.append(_write_part(part, out, len(names)))
    return names, np.concatenate(ids)


def _write_part(part, out: Path, number: int) -> str:
    name = PART_PATTERN.format(number)
    tmp = out / f".{name}.tmp"
    _faiss().write_index(part, str(tmp))
    os.replace(tmp, out / name)
    return name


class PartsIndex:
    """The parts of a sharded index searched as one: a ``faiss.IndexShards`` (successive
    ids) over memory-mapped parts. ``search(x, k)`` -> ``(D, I)`` float32/int64
    ``(m, k)``, I = global row positions (-1: none); ``ntotal``; ``set_nprobe(p)``."""

    def __init__(self, paths: list[Path], dim: int) -> None:
        faiss = _faiss()
        self.parts = [faiss.read_index(str(p), faiss.IO_FLAG_MMAP) for p in paths]
        self.index = faiss.IndexShards(dim, False, True)
        for part in self.parts:  # self.parts keeps them alive
            self.index.add_shard(part)
        self.nlist = faiss.extract_index_ivf(self.parts[0]).nlist

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def set_nprobe(self, nprobe: int) -> None:
        for part in self.parts:
            _faiss().extract_index_ivf(part).nprobe = nprobe

    def search(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.index.search(x, k)


def parts_size(out: Path, names: list[str]) -> int:
    """Bytes of the part files ``names`` in ``out``."""
    return sum((out / n).stat().st_size for n in names)


@functools.lru_cache(maxsize=4)
def open_parts(folder: str, names: tuple[str, ...], dim: int, stamp: tuple[int, ...]):
    """``(PartsIndex, ids)`` of the parts ``names`` in ``folder`` (ids memory-mapped),
    kept for the process until a part file changes (``stamp``: their mtimes).

    Raises:
        StoreError: a part file is missing (rebuild with ``reprlearn index --overwrite``).
    """
    paths = [Path(folder) / n for n in names]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise StoreError(
            f"{folder} lacks index part {missing[0]}: rebuild it with "
            f"`reprlearn index STORE --overwrite`"
        )
    return PartsIndex(paths, dim), np.load(Path(folder) / "ids.npy", mmap_mode="r")
