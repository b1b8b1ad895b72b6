"""A FAISS nearest-neighbour index beside an embedding store (``STORE/index/``).

Built shard by shard: an IVF/PQ index is trained on a sample of rows gathered from the
shards, then every shard is read, added and dropped, so the store is never loaded
whole. ``kind="auto"`` follows autofaiss's rules (criteo/autofaiss,
``get_optimal_index_keys_v2``): an exact ``Flat`` index under 1,000 vectors, HNSW under
10,000 and whenever HNSW (vectors + graph links) fits in ``max_memory``, IVF-PQ beyond.
The search parameter (HNSW ``efSearch`` / IVF ``nprobe``) is then tuned, as autofaiss
does, to the smallest value reaching ``target_recall`` on 500 tuning queries, and
recall@10 against exact search is reported on 1,000 other held-out queries (store
items left out of the IVF/PQ training sample; the query item itself is excluded from
both result lists).

With ``part_rows`` (CLI ``--part-rows``), an IVF-PQ index is sharded
(:mod:`reprlearn.search.sharded_index`): trained once, filled and written part by part
(``part-00000.faiss`` ...) so building holds one part in memory, and searched over every
part memory-mapped with the top-k lists merged.

Files in ``STORE/index/``: ``index.faiss`` (``faiss.write_index``) or the parts,
``ids.npy`` (int64 store id of each FAISS row) and ``index.json`` (:class:`IndexInfo`: kind, factory
string, metric, search parameter, build time, bytes/vector, recall@10 and the store's
shard fingerprint, so a store changed after indexing is detected).
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reprlearn.errors import ReprlearnError, StoreError
from reprlearn.outdir import prepare_out_dir, write_json_atomic, writer_lock
from reprlearn.search.exact import exact_search
from reprlearn.search.metric import faiss_metric, prepare_vectors, store_metric
from reprlearn.search.sharded_index import PartsIndex, add_in_parts, open_parts, parts_size
from reprlearn.search.shards import store_fingerprint
from reprlearn.store import EmbeddingStore

KINDS = ("auto", "flat", "hnsw", "ivf-pq")
INDEX_DIR = "index"
FLAT_THRESHOLD = 1_000  # autofaiss: below this an exact Flat index is fastest
HNSW_THRESHOLD = 10_000  # autofaiss: below this quantisation cannot be trained
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
EF_SEARCH = (16, 32, 64, 128, 256, 512, 1024)
RECALL_QUERIES = 1_000
TUNING_QUERIES = 500
PQ_SUBQUANTIZERS = (64, 48, 32, 24, 16, 8, 4)


class MissingFaissError(ReprlearnError, ImportError):
    """faiss is not installed; the message gives the pip command."""


def import_faiss():
    """``faiss``, or :class:`MissingFaissError` naming the extra to install."""
    try:
        import faiss
    except ImportError:
        raise MissingFaissError(
            "the index needs faiss, which is not installed: pip install reprlearn[search]"
        ) from None
    return faiss


def parse_memory(text: str | int | None) -> int:
    """``"4G"``, ``"512M"``, ``"2.5GB"`` or bytes -> bytes; None -> half the machine's RAM.

    Raises:
        ReprlearnError: an unreadable size (names the fix).
    """
    if text is None:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)
    if isinstance(text, int):
        return text
    s = str(text).strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    try:
        if s and s[-1] in units:
            return int(float(s[:-1]) * units[s[-1]])
        return int(float(s))
    except ValueError:
        raise ReprlearnError(
            f"--max-memory {text!r} is not a size: write it as 512M, 4G or a number of bytes"
        ) from None


def hnsw_bytes_per_vector(dim: int, m: int = HNSW_M) -> float:
    """Memory of an HNSW-Flat index per vector: the float32 vector + ~2M int32 links at
    level 0 + upper levels (1/M of the nodes) + ids; bytes."""
    return 4 * dim + 4 * 2 * m * (1 + 1 / m) + 8


def choose_kind(n: int, dim: int, max_memory: int) -> str:
    """autofaiss's choice of index for ``n`` vectors of ``dim`` under ``max_memory`` bytes:
    ``flat`` (< 1,000), ``hnsw`` (< 10,000, or whenever it fits), else ``ivf-pq``."""
    if n < FLAT_THRESHOLD:
        return "flat"
    if n < HNSW_THRESHOLD or n * hnsw_bytes_per_vector(dim) <= max_memory:
        return "hnsw"
    return "ivf-pq"


def ivf_lists(n: int) -> int:
    """IVF cells: the power of two nearest 4*sqrt(n) (autofaiss), with >= 39 training
    points per cell (FAISS's minimum) for a training sample of up to 100k rows."""
    nlist = 2 ** round(math.log2(4 * math.sqrt(n)))
    return int(max(1, min(nlist, min(n, 100_000) // 39)))


def pq_subquantizers(n: int, dim: int, max_memory: int) -> int:
    """PQ code bytes per vector: the largest of 64, 48, ..., 4 that divides ``dim`` and
    keeps code + 8-byte id of ``n`` vectors within ``max_memory`` (autofaiss's list)."""
    fitting = [m for m in PQ_SUBQUANTIZERS if dim % m == 0 and dim // m >= 4]
    for m in fitting:
        if n * (m + 8) <= max_memory:
            return m
    if not fitting:
        raise ReprlearnError(f"no PQ code size divides dim={dim}: use --kind hnsw or flat")
    return fitting[-1]


@dataclass
class IndexInfo:
    """What ``index.json`` holds: how the index was built and how good it is.

    Attributes:
        kind: ``flat``, ``hnsw`` or ``ivf-pq``; factory: the FAISS index_factory string.
        metric: ``cosine``, ``ip`` or ``l2``; num_vectors, dim: what was indexed.
        search_params: ``{"efSearch": 64}`` / ``{"nprobe": 16}`` / ``{}``.
        build_seconds: training + adding + saving (s); bytes_per_vector: index file
            size / vectors; recall_at_10: against exact search on ``recall_queries``
            held-out queries (None when the store has < 12 items).
        fingerprint: the store's shard fingerprint; shard_stats: [name, size, mtime_ns]
            per shard (a fast check before hashing).
        max_memory: bytes allowed; chosen_by: why this kind.
        parts: file names of a sharded index's parts (empty: one ``index.faiss``);
        part_rows: vectors per part (None: not sharded).
    """

    kind: str
    factory: str
    metric: str
    num_vectors: int
    dim: int
    search_params: dict[str, int]
    build_seconds: float
    bytes_per_vector: float
    recall_at_10: float | None
    recall_queries: int
    fingerprint: str
    shard_stats: list[list[Any]]
    max_memory: int
    chosen_by: str
    target_recall: float
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    parts: list[str] = field(default_factory=list)
    part_rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _shard_stats(store: EmbeddingStore) -> list[list[Any]]:
    return [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in store.shard_paths()]


def _rows_at(store: EmbeddingStore, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectors and ids of the rows at global ``positions`` (file order), streamed batch by
    batch: float32 ``(len(positions), dim)``, int64 ``(len(positions),)``, sorted."""
    positions = np.sort(np.asarray(positions, dtype=np.int64))
    X, ids = [], []
    for batch in store.iter_batches(columns=("id", "embedding"), verify=False):
        lo, hi = np.searchsorted(positions, [batch.start, batch.start + len(batch)])
        if hi > lo:
            X.append(batch.X[positions[lo:hi] - batch.start])
            ids.append(batch.ids[positions[lo:hi] - batch.start])
    return np.concatenate(X), np.concatenate(ids)


def _factory(kind: str, n: int, dim: int, max_memory: int) -> str:
    if kind == "flat":
        return "Flat"
    if kind == "hnsw":
        return f"HNSW{HNSW_M}"
    # 8-bit codes need 256 x 39 training points; smaller stores get fewer bits
    bits = int(min(8, max(4, math.floor(math.log2(max(16, n) / 39)))))
    return f"IVF{ivf_lists(n)},PQ{pq_subquantizers(n, dim, max_memory)}x{bits}"


def _set_param(index, kind: str, value: int) -> dict[str, int]:
    faiss = import_faiss()
    if isinstance(index, PartsIndex):
        index.set_nprobe(value)
        return {"nprobe": value}
    if kind == "hnsw":
        faiss.downcast_index(index).hnsw.efSearch = value
        return {"efSearch": value}
    if kind == "ivf-pq":
        faiss.extract_index_ivf(index).nprobe = value
        return {"nprobe": value}
    return {}


def _candidates(kind: str, index) -> list[int]:
    if kind == "hnsw":
        return list(EF_SEARCH)
    if kind == "ivf-pq":
        parts = isinstance(index, PartsIndex)
        nlist = index.nlist if parts else import_faiss().extract_index_ivf(index).nlist
        return [p for p in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) if p < nlist] + [nlist]
    return [0]


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the true top-k ids ``(m, k)`` found among ``found`` ``(m, k)``."""
    hits = [
        len(set(f[f >= 0]) & set(t[t >= 0])) / max(1, int((t >= 0).sum()))
        for f, t in zip(found, truth, strict=True)
    ]
    return float(np.mean(hits))


def _index_search(index, ids: np.ndarray, Q: np.ndarray, k: int, metric: str):
    D, rows = index.search(prepare_vectors(Q, metric), k)
    return D, np.where(rows >= 0, ids[np.maximum(rows, 0)], -1)


def _recall_without_self(index, ids, Q, q_ids, truth, metric) -> float:
    """recall@k of the index for queries that are store items, the item itself left out."""
    k = truth.shape[1]
    _, found = _index_search(index, ids, Q, k + 1, metric)
    kept = np.full((len(found), k), -1, dtype=np.int64)
    for row, (f, q) in enumerate(zip(found, q_ids, strict=True)):
        others = f[f != q][:k]
        kept[row, : len(others)] = others
    return recall_at_k(kept, truth)


def _tune(index, kind, ids, Q, q_ids, truth, metric, target) -> dict[str, int]:
    """The smallest search parameter whose recall@10 reaches ``target``; when none does
    (PQ codes too coarse), the smallest reaching 95% of the best recall seen, as
    autofaiss does, instead of the slowest setting for no gain."""
    candidates = _candidates(kind, index)
    recalls = []
    for value in candidates:
        _set_param(index, kind, value)
        recalls.append(_recall_without_self(index, ids, Q, q_ids, truth, metric))
        if recalls[-1] >= target:
            return _set_param(index, kind, value)
    good = next(v for v, r in zip(candidates, recalls, strict=True) if r >= 0.95 * max(recalls))
    return _set_param(index, kind, good)


def index_dir(store: EmbeddingStore) -> Path:
    return store.path / INDEX_DIR


def build_index(
    store: EmbeddingStore | str | Path,
    *,
    kind: str = "auto",
    max_memory: str | int | None = None,
    metric: str | None = None,
    target_recall: float = 0.95,
    seed: int = 0,
    overwrite: bool = False,
    part_rows: int | None = None,
) -> IndexInfo:
    """Build (or reuse) the FAISS index of ``store`` in ``STORE/index/``.

    Args:
        store: an :class:`EmbeddingStore` or its folder.
        kind: ``auto`` (autofaiss rule, see the module doc), ``flat`` (exact),
            ``hnsw`` (HNSW32 graph) or ``ivf-pq`` (IVF with ~4*sqrt(n) cells + PQ codes).
        max_memory: memory the index may use (``"4G"``; default half the RAM); decides
            ``auto`` and the PQ code size.
        metric: ``cosine`` / ``ip`` / ``l2`` (default: the manifest's, else cosine).
        target_recall: recall@10 the search parameter is tuned to reach (default 0.95).
        seed: seed of the training sample and the held-out queries.
        overwrite: rebuild even when an up-to-date index with these settings exists.
        part_rows: build a sharded IVF-PQ index of parts holding this many vectors each
            (trained once, filled part by part, searched merged;
            :mod:`reprlearn.search.sharded_index`); needs ``kind`` ``auto`` or
            ``ivf-pq``. Default None: one index file.

    Returns:
        :class:`IndexInfo` (also written to ``STORE/index/index.json``). An existing
        index of the same settings on an unchanged store is reused as is.

    Raises:
        ReprlearnError: unknown kind/metric, unreadable ``max_memory``, faiss missing,
            ``part_rows`` with ``kind`` flat/hnsw or below 1.
        OutputError: ``STORE/index`` holds something reprlearn did not write, or is
            being written by another process.
    """
    store = store if isinstance(store, EmbeddingStore) else EmbeddingStore.open(store)
    if kind not in KINDS:
        raise ReprlearnError(f"unknown index kind {kind!r}: choose one of {', '.join(KINDS)}")
    faiss = import_faiss()
    metric = store_metric(store, metric)
    budget = parse_memory(max_memory)
    n, dim = len(store), store.dim
    chosen = choose_kind(n, dim, budget) if kind == "auto" else kind
    why = f"auto: {n:,} vectors, max memory {budget / 2**30:.1f} GiB" if kind == "auto" else "asked"
    if part_rows is not None:
        if kind not in ("auto", "ivf-pq") or part_rows < 1:
            raise ReprlearnError(
                f"--part-rows {part_rows} shards an IVF-PQ index: pass --kind ivf-pq (or auto) "
                "and 1 or more vectors per part"
            )
        chosen, why = "ivf-pq", f"sharded: parts of {part_rows:,} vectors"
    existing = _existing(store)
    if existing is not None and not overwrite:
        same = existing.kind == chosen and existing.metric == metric
        same = same and existing.part_rows == part_rows
        if same and _fresh(store, existing):
            return existing
        if not _fresh(store, existing):
            why += "; rebuilt: the store changed after it was last indexed"
    out = prepare_out_dir(index_dir(store), kind="index", overwrite=True)
    with writer_lock(out):
        start = time.perf_counter()
        rng = np.random.default_rng(seed)
        held = rng.permutation(n)[: min(n, RECALL_QUERIES + TUNING_QUERIES)]
        factory = _factory(chosen, n, dim, budget)
        index = faiss.index_factory(dim, factory, faiss_metric(metric))
        if chosen == "hnsw":
            faiss.downcast_index(index).hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        if chosen == "ivf-pq":  # polysemous codes are unused here and cost minutes to train
            faiss.downcast_index(faiss.extract_index_ivf(index)).do_polysemous_training = False
        if not index.is_trained:
            wanted = min(n, max(256 * 39, 50 * ivf_lists(n)), 100_000)
            pool = np.setdiff1d(np.arange(n), held)
            if len(pool) < wanted:  # a small store: train on every row
                pool = np.arange(n)
            size = min(len(pool), wanted)
            Xt, _ = _rows_at(store, rng.choice(pool, size, replace=False))
            index.train(prepare_vectors(Xt, metric))
            del Xt
        if part_rows is not None:
            parts, ids = add_in_parts(index, store, metric, part_rows, out)
            del index
            index = PartsIndex([out / p for p in parts], dim)
            file_bytes = parts_size(out, parts)
        else:
            parts, ids = [], _add_all(index, store, metric)
        params, recall, n_recall = _tune_and_measure(
            store, index, chosen, ids, held, metric, target_recall
        )
        if not parts:
            faiss.write_index(index, str(out / ".index.faiss.tmp"))
            os.replace(out / ".index.faiss.tmp", out / "index.faiss")
            file_bytes = (out / "index.faiss").stat().st_size
        np.save(out / ".ids.tmp.npy", ids)
        os.replace(out / ".ids.tmp.npy", out / "ids.npy")
        info = IndexInfo(
            kind=chosen,
            factory=factory,
            metric=metric,
            num_vectors=int(index.ntotal),
            dim=dim,
            search_params=params,
            build_seconds=round(time.perf_counter() - start, 3),
            bytes_per_vector=round(file_bytes / max(1, index.ntotal), 1),
            recall_at_10=recall,
            recall_queries=n_recall,
            fingerprint=store_fingerprint(store),
            shard_stats=_shard_stats(store),
            max_memory=budget,
            chosen_by=why,
            target_recall=target_recall,
            parts=parts,
            part_rows=part_rows,
        )
        write_json_atomic(out / "index.json", info.to_dict())
    return info


def _add_all(index, store: EmbeddingStore, metric: str) -> np.ndarray:
    """Add every store vector to ``index``, batch by batch; the ids in FAISS row order."""
    ids = []
    for batch in store.iter_batches(columns=("id", "embedding")):
        index.add(prepare_vectors(batch.X, metric))
        ids.append(batch.ids)
    return np.concatenate(ids)


def _tune_and_measure(store, index, kind, ids, held, metric, target):
    """Tune the search parameter on the first 500 held-out queries (when there are
    enough), measure recall@10 on the others; returns (params, recall, queries)."""
    if len(held) < 12:
        return {}, None, 0
    tune_pos = held[:TUNING_QUERIES] if len(held) > TUNING_QUERIES + 100 else held
    eval_pos = held[TUNING_QUERIES:] if len(held) > TUNING_QUERIES + 100 else held
    k = min(10, len(ids) - 1)
    params: dict[str, int] = {}
    if kind != "flat":
        Qt, qt_ids = _rows_at(store, tune_pos)
        _, truth = exact_search(store, Qt, k, metric, exclude_ids=qt_ids)
        params = _tune(index, kind, ids, Qt, qt_ids, truth, metric, target)
    Qe, qe_ids = _rows_at(store, eval_pos)
    _, truth = exact_search(store, Qe, k, metric, exclude_ids=qe_ids)
    recall = _recall_without_self(index, ids, Qe, qe_ids, truth, metric)
    return params, round(recall, 4), len(eval_pos)


def _existing(store: EmbeddingStore) -> IndexInfo | None:
    path = index_dir(store) / "index.json"
    if not path.is_file():
        return None
    try:
        return IndexInfo(**json.loads(path.read_text()))
    except (TypeError, ValueError):
        return None


def _fresh(store: EmbeddingStore, info: IndexInfo) -> bool:
    """True when the store's shards are those the index was built from: same names,
    sizes and mtimes (fast), or else the same content hash (a copied store)."""
    if _shard_stats(store) == info.shard_stats:
        return True
    return store_fingerprint(store) == info.fingerprint


@dataclass
class LoadedIndex:
    """An index read back from ``STORE/index/``, ready to search.

    Attributes: ``index`` (FAISS), ``ids`` int64 ``(ntotal,)`` store id of each row,
    ``info`` its :class:`IndexInfo`.
    """

    index: Any
    ids: np.ndarray
    info: IndexInfo

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ``(scores, ids)`` float32/int64 ``(m, k)`` for float32 ``(m, dim)``
        queries (normalised here for cosine); scores are similarities, or squared L2
        distances for l2; ``-1`` ids where fewer than ``k`` were found."""
        D, ids = _index_search(self.index, self.ids, queries, k, self.info.metric)
        return D.astype(np.float32), ids


def load_index(store: EmbeddingStore | str | Path) -> LoadedIndex | None:
    """The index of ``store``, or None when it has none.

    Raises:
        StoreError: the store changed after the index was built (stale index): the
            message says to rebuild it with ``reprlearn index STORE``.
    """
    store = store if isinstance(store, EmbeddingStore) else EmbeddingStore.open(store)
    info = _existing(store)
    single = (index_dir(store) / "index.faiss").is_file()
    if info is None or not (single or info.parts):
        return None
    if not _fresh(store, info):
        raise StoreError(
            f"the index in {index_dir(store)} was built before {store.path} changed (its "
            f"shards differ from those indexed): rebuild it with `reprlearn index {store.path}`"
        )
    if info.parts:
        folder = index_dir(store).resolve()
        stamp = tuple((folder / p).stat().st_mtime_ns if (folder / p).is_file() else 0
                      for p in info.parts)  # fmt: skip
        index, ids = open_parts(str(folder), tuple(info.parts), info.dim, stamp)
        if info.search_params:
            index.set_nprobe(int(info.search_params["nprobe"]))
        return LoadedIndex(index, ids, info)
    file = index_dir(store) / "index.faiss"
    index, ids = _read_index(str(file.resolve()), file.stat().st_mtime_ns)
    if info.search_params:
        _set_param(index, info.kind, int(next(iter(info.search_params.values()))))
    return LoadedIndex(index, ids, info)


@functools.lru_cache(maxsize=4)
def _read_index(path: str, mtime_ns: int):
    """The FAISS index file and its id map, kept for the process until the file changes."""
    faiss = import_faiss()
    return faiss.read_index(path), np.load(Path(path).with_name("ids.npy"))
