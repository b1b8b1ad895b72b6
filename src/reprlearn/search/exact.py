"""Exact k-nearest-neighbour search over a store, shard by shard (no index needed).

Each batch of store vectors (:data:`STORE_BATCH` rows, streamed by
:meth:`EmbeddingStore.iter_batches`) is scored against all queries with one torch matmul
(chunked), and a running top-k is kept, so memory stays at one batch x one query chunk +
``(m, k)`` results, whatever the shard size. The
same brute-force search as DINO's kNN evaluation (``torch.mm`` + ``topk``); it is the
ground truth that recall@10 of an approximate index is measured against.
"""

from __future__ import annotations

import numpy as np
import torch

from reprlearn.search.metric import prepare_vectors
from reprlearn.store import EmbeddingStore

# Queries scored against one shard at once: (1024, 8192) float32 = 32 MiB.
QUERY_CHUNK = 1024
# Store rows scored at once: (1024, 16384) scores + int64 ids ~ 200 MiB with the top-k merge.
STORE_BATCH = 16_384


def _scores(Q: torch.Tensor, X: torch.Tensor, metric: str) -> torch.Tensor:
    """Higher-is-better scores ``(m, n)``: similarity, or minus squared L2 distance."""
    dots = Q @ X.T
    if metric != "l2":
        return dots
    return 2 * dots - (Q * Q).sum(1, keepdim=True) - (X * X).sum(1)[None, :]


def exact_search(
    store: EmbeddingStore,
    queries: np.ndarray,
    k: int,
    metric: str,
    *,
    exclude_ids: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The exact top-``k`` store items for each query.

    Args:
        store: the store searched, read one shard at a time.
        queries: float32 ``(m, dim)`` query vectors (normalised here for cosine).
        k: results per query.
        metric: ``"cosine"``, ``"ip"`` or ``"l2"``.
        exclude_ids: int64 ``(m,)`` a store id to leave out of each query's results
            (the query item itself), or None.

    Returns:
        ``(scores, ids)``: float32 ``(m, k)`` (cosine / inner product, or squared L2
        distance for l2) and int64 ``(m, k)`` store ids, best first; ``-1`` ids pad
        results when the store has fewer than ``k`` candidates.
    """
    Q = torch.from_numpy(prepare_vectors(queries, metric))
    m = len(Q)
    best = torch.full((m, k), -torch.inf)
    best_ids = torch.full((m, k), -1, dtype=torch.int64)
    skip = None if exclude_ids is None else torch.from_numpy(np.asarray(exclude_ids, np.int64))
    with torch.inference_mode():
        for shard in store.iter_batches(STORE_BATCH, ("id", "embedding"), verify=False):
            X = torch.from_numpy(prepare_vectors(shard.X, metric))
            ids = torch.from_numpy(shard.ids)
            for lo in range(0, m, QUERY_CHUNK):
                hi = min(m, lo + QUERY_CHUNK)
                s = _scores(Q[lo:hi], X, metric)
                if skip is not None:
                    s[skip[lo:hi, None] == ids[None, :]] = -torch.inf
                both = torch.cat([best[lo:hi], s], 1)
                both_ids = torch.cat([best_ids[lo:hi], ids.expand(hi - lo, -1)], 1)
                best[lo:hi], pos = torch.topk(both, k, dim=1)
                best_ids[lo:hi] = torch.gather(both_ids, 1, pos)
    scores = best.numpy().astype(np.float32)
    out_ids = best_ids.numpy()
    out_ids[~np.isfinite(scores)] = -1
    if metric == "l2":
        scores = -scores
    return scores, out_ids
