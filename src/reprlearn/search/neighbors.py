"""k nearest store items of many query vectors: through the store's index when it has
an up-to-date one, else exactly (shard by shard)."""

from __future__ import annotations

import numpy as np

from reprlearn.search.exact import exact_search
from reprlearn.search.index import load_index
from reprlearn.search.metric import store_metric
from reprlearn.store import EmbeddingStore


def knn(
    store: EmbeddingStore, queries: np.ndarray, k: int, *, exclude_ids: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """Top-``k`` ``(scores, ids, method)`` of float32 ``(m, dim)`` queries among ``store``:
    scores/ids ``(m, k)`` best first (``-1`` ids pad), method ``"index (hnsw)"``/``"exact"``.
    ``exclude_ids`` ``(m,)``: a store id to drop from each query's list (itself)."""
    index = load_index(store)
    if index is None:
        scores, ids = exact_search(store, queries, k, store_metric(store), exclude_ids=exclude_ids)
        return scores, ids, "exact"
    extra = 0 if exclude_ids is None else 1
    scores, ids = index.search(queries, k + extra)
    if exclude_ids is not None:
        keep = ids != np.asarray(exclude_ids)[:, None]
        order = np.argsort(~keep, axis=1, kind="stable")[:, :k]  # kept first, in rank order
        scores = np.take_along_axis(np.where(keep, scores, -np.inf), order, 1)
        ids = np.take_along_axis(np.where(keep, ids, -1), order, 1)
    return scores, ids, f"index ({index.info.kind})"
