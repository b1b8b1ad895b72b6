"""``search``: the store items nearest to a text, an image file, or store ids.

A query is embedded with the store's own encoder, rebuilt from the manifest
(``manifest["encoder_name"]`` through :func:`reprlearn.load_encoder`; fitted encoders
restore their state from ``STORE/encoder/``), with the store's precision and
normalisation, so it lands in the same space. ``id:N`` queries take the stored vector;
several ids are averaged (a profile to recommend from, "more like these") and left out
of the results. The FAISS index in ``STORE/index/`` is used when there is one, else the
search is exact (:func:`reprlearn.search.exact.exact_search`) and says so.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reprlearn.errors import ReprlearnError
from reprlearn.search.exact import exact_search
from reprlearn.search.index import load_index
from reprlearn.search.items import load_items
from reprlearn.search.metric import store_metric
from reprlearn.search.shards import iter_shards
from reprlearn.store import EmbeddingStore

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class QueryError(ReprlearnError, ValueError):
    """A query that cannot be run on this store (wrong modality, unknown id, encoder
    unavailable offline); the message says what to do instead."""


@dataclass
class SearchResult:
    """What :func:`search` found.

    Attributes:
        query: the query as given (a text, an image path, or ``"id:3 id:7"``).
        results: one dict per hit, best first: ``rank``, ``id``, ``score`` (cosine or
            inner product; squared L2 distance for l2 stores), ``label`` (name or None),
            ``text`` (text stores) or ``image`` (the image's path in the source).
        method: ``"index (hnsw)"`` and the like, or ``"exact"`` (no index).
        metric: ``cosine``, ``ip`` or ``l2``; seconds: embed + search time (s).
        notes: things the user should know (exact search, items not reloadable).
    """

    query: str
    results: list[dict[str, Any]]
    method: str
    metric: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """``{"query": ..., "results": [...]}``: what ``search --json`` prints."""
        return {"query": self.query, "results": self.results}

    def table(self):
        """A rich Table: rank, id, score, label, and the text or image path of each hit
        (user strings escaped, so brackets in a text print as they are)."""
        from rich.markup import escape
        from rich.table import Table

        key = "image" if self.results and "image" in self.results[0] else "text"
        title = f"{self.query!r} · {self.method} · {self.metric} · {self.seconds * 1000:.0f} ms"
        table = Table(title=escape(title))
        for name in ("rank", "id", "score", "label", key):
            table.add_column(name, overflow="fold")
        for r in self.results:
            table.add_row(str(r["rank"]), str(r["id"]), f"{r['score']:.4f}",
                          escape(str(r["label"] or "")), escape(str(r.get(key) or "")))  # fmt: skip
        return table

    def __str__(self) -> str:
        from reprlearn.evaluation.result import plain_text

        return plain_text(self.table())


def parse_query(query: str | list[str] | tuple[str, ...]) -> tuple[str, list[int] | None]:
    """``(query text, ids)``: ids for ``id:N`` queries (one or several), else None.

    Raises:
        QueryError: ``id:`` queries mixed with others, or a malformed id.
    """
    parts = [query] if isinstance(query, str) else list(query)
    is_id = [p.startswith("id:") for p in parts]
    if any(is_id) and not all(is_id):
        raise QueryError(
            f"mix of id: queries and others in {parts}: give either ids (id:3 id:7) or one text/image"
        )
    if not any(is_id):
        if len(parts) != 1:
            raise QueryError(
                f'{len(parts)} queries given; quote a text query as one argument: "{" ".join(parts)}"'
            )
        return parts[0], None
    ids = []
    for p in parts:
        try:
            ids.append(int(p[3:]))
        except ValueError:
            raise QueryError(f"{p!r} is not an id query: write id:N with N a row id") from None
    return " ".join(parts), ids


def store_encoder(store: EmbeddingStore):
    """The store's encoder rebuilt from its manifest (fitted state from ``STORE/encoder/``).

    Raises:
        QueryError: the encoder cannot be built here (weights not available offline,
            library missing) or a fitted encoder's saved state is missing.
    """
    from reprlearn.encoders import load_encoder

    name = store.encoder_name
    try:
        enc = load_encoder(name)
    except Exception as e:
        raise QueryError(
            f"the encoder {name!r} of {store.path} cannot be rebuilt here ({e}); search "
            "by id:N instead, or make its weights available offline"
        ) from None
    if enc.requires_fit:
        state = store.path / "encoder"
        if not (state / "state.json").is_file():
            raise QueryError(
                f"{store.path} has no saved state of its fitted encoder {name!r} "
                f"({state} is missing); re-embed the store, or search by id:N"
            )
        enc.load(state)
    return enc


@functools.lru_cache(maxsize=4)
def _cached_encoder(path: str, manifest_json: str, state_stamp: int | None):
    """:func:`store_encoder`, kept for the process per store (and manifest), so repeated
    queries from Python do not rebuild the model each time (``state_stamp``: the saved
    fitted state's mtime, part of the key; None when there is none)."""
    return store_encoder(EmbeddingStore(Path(path), json.loads(manifest_json)))


def _modality(store: EmbeddingStore) -> str:
    return str((store.manifest.get("encoder") or {}).get("modality") or "text")


def embed_query(store: EmbeddingStore, query: str) -> np.ndarray:
    """A text or image-file query embedded like the store's items: float32 ``(dim,)``.

    Raises:
        QueryError: an image path for a text store, a text for an image store, a
            missing image file, or an encoder that cannot be rebuilt.
    """
    from reprlearn.embed import encode_items

    modality = _modality(store)
    looks_image = Path(query).suffix.lower() in IMAGE_SUFFIXES
    if modality == "text" and looks_image and Path(query).is_file():
        raise QueryError(
            f"{query} is an image but {store.path} holds text embeddings "
            f"({store.encoder_name}); give a text, or id:N"
        )
    if modality == "image":
        if not looks_image:
            raise QueryError(
                f"{store.path} holds image embeddings ({store.encoder_name}) but the query "
                f"{query!r} is not an image file; give an image path (.jpg, .png, ...) or id:N"
            )
        if not Path(query).is_file():
            raise QueryError(f"no such image file: {query}; check the path")
        from reprlearn.data.items import open_image_file

        item: Any = open_image_file(query)
    else:
        item = query
    state = store.path / "encoder" / "state.json"
    stamp = state.stat().st_mtime_ns if state.is_file() else None  # a re-fitted state: reload
    manifest = json.dumps(store.manifest, sort_keys=True, default=str)
    enc = _cached_encoder(str(store.path.resolve()), manifest, stamp)
    X = encode_items(
        enc,
        [item],
        precision=str(store.manifest.get("precision") or "auto"),
        normalize=bool(store.manifest.get("normalized")),
    )
    return X[0]


def stored_vectors(store: EmbeddingStore, ids: list[int]) -> np.ndarray:
    """The stored vectors of ``ids``, float32 ``(len(ids), dim)``, read shard by shard.

    Raises:
        QueryError: an id that is not in the store (names the valid range).
    """
    wanted = {int(i): None for i in ids}
    for shard in iter_shards(store):
        hit = np.isin(shard.ids, list(wanted))
        for i, x in zip(shard.ids[hit], shard.X[hit], strict=True):
            wanted[int(i)] = x
    missing = [i for i, v in wanted.items() if v is None]
    if missing:
        raise QueryError(
            f"id {missing[0]} is not in {store.path} (ids run from 0 to "
            f"{store.manifest['counts']['rows'] - 1}"
            f"{', some rows were skipped' if store.manifest['counts'].get('skipped') else ''})"
        )
    return np.stack([wanted[int(i)] for i in ids])


def search(
    store: EmbeddingStore | str | Path,
    query: str | list[str],
    k: int = 10,
    *,
    exact: bool = False,
) -> SearchResult:
    """The ``k`` store items nearest to ``query``.

    Args:
        store: an :class:`EmbeddingStore` or its folder.
        query: a text, an image file path, ``"id:N"``, or a list of ``"id:N"`` (their
            mean vector; the ids themselves are left out of the results).
        k: results (default 10).
        exact: search exactly even when the store has an index.

    Returns:
        :class:`SearchResult` (``to_dict()`` = ``{"query", "results"}``).

    Raises:
        QueryError: wrong modality, unknown id, encoder not rebuildable offline, k < 1.
        StoreError: the store's index is stale (the store changed after indexing).
    """
    store = store if isinstance(store, EmbeddingStore) else EmbeddingStore.open(store)
    if k < 1:
        raise QueryError(f"k={k}: ask for at least 1 result (--k 10)")
    start = time.perf_counter()
    text, ids = parse_query(query)
    vector = stored_vectors(store, ids).mean(0) if ids else embed_query(store, text)
    metric = store_metric(store)
    notes: list[str] = []
    index = None if exact else load_index(store)
    extra = len(ids) if ids else 0
    if index is not None:
        scores, hits = index.search(vector[None, :], k + extra)
        method = f"index ({index.info.kind})"
    else:
        scores, hits = exact_search(store, vector[None, :], k + extra, metric)
        method = "exact"
        if not exact:
            notes.append(
                f"exact search: {store.path} has no index (build one with `reprlearn index {store.path}`)"
            )
    pairs = [(int(i), float(s)) for i, s in zip(hits[0], scores[0], strict=True) if i >= 0]
    pairs = [p for p in pairs if not ids or p[0] not in set(ids)][:k]
    seconds = time.perf_counter() - start
    return SearchResult(text, _rows(store, pairs), method, metric, seconds, notes)


def _rows(store: EmbeddingStore, pairs: list[tuple[int, float]]) -> list[dict[str, Any]]:
    ids = [i for i, _ in pairs]
    labels = _labels(store, ids)
    items = load_items(store, ids)
    key = "image" if items.modality == "image" else "text"
    return [
        {
            "rank": rank,
            "id": i,
            "score": round(score, 4),
            "label": labels.get(i),
            key: items.text.get(i),
        }
        for rank, (i, score) in enumerate(pairs, start=1)
    ]


def _labels(store: EmbeddingStore, ids: list[int]) -> dict[int, str | None]:
    """id -> label name, reading only the id and label columns of each shard."""
    import pyarrow.parquet as pq

    names = store.label_names
    if names is None:
        return {}
    wanted = np.asarray(ids, dtype=np.int64)
    out: dict[int, str | None] = {}
    for path in store.shard_paths():
        table = pq.read_table(path, columns=["id", "label"])
        shard_ids = table.column("id").to_numpy()
        hit = np.isin(shard_ids, wanted)
        for i, y in zip(shard_ids[hit], table.column("label").to_numpy()[hit], strict=True):
            out[int(i)] = names[int(y)] if 0 <= int(y) < len(names) else str(int(y))
    return out
