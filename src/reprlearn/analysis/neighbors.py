"""Exact k nearest neighbours by cosine similarity: chunked torch matmul + ``topk``.

Rows are L2-normalised once; each chunk of queries is multiplied with all items
(``(chunk, n)`` cosines, at most ~256 MiB at a time) and ``torch.topk`` keeps the best
``k``. This is the brute-force search of DINO's kNN evaluation
(facebookresearch/dino, ``eval_knn.py``: ``torch.mm`` of normalised features +
``topk``), which is exact and runs 100k x 384 on a CPU in seconds; for millions of items
use FAISS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reprlearn.analysis.similarity import l2_normalize

# Bytes of the (chunk, n) float32 cosine block computed at once.
CHUNK_BYTES = 256 * 2**20


@dataclass
class Neighbors:
    """The ``k`` nearest neighbours of some query items.

    Attributes:
        queries: int64 ``(q,)`` indices of the query items.
        indices: int64 ``(q, k)`` indices of their neighbours, nearest first.
        cosines: float32 ``(q, k)`` cosine similarity of each neighbour, descending.
    """

    queries: np.ndarray
    indices: np.ndarray
    cosines: np.ndarray

    @property
    def k(self) -> int:
        return int(self.indices.shape[1])

    def same_label(self, y: np.ndarray) -> np.ndarray:
        """bool ``(q, k)``: does neighbour j of query i have the query's label?"""
        y = np.asarray(y)
        return y[self.indices] == y[self.queries][:, None]

    def label_agreement(self, y: np.ndarray) -> float:
        """Share of (query, neighbour) pairs with the same label, in [0, 1].

        The leave-one-out k-NN "neighbourhood purity" of the embedding: the chance a
        neighbour of an item is of its class (chance level = sum of squared class shares).
        """
        return float(self.same_label(y).mean())

    def subset(self, queries: np.ndarray | None, k: int) -> Neighbors:
        """The first ``k`` neighbours of the given query items (``None``: all), from a
        neighbour graph of every item (``queries == arange(n)``, as
        :func:`nearest_neighbors` without ``queries`` returns): the same neighbours a
        search with ``k`` finds, up to the order of exactly equal cosines.

        Raises:
            ValueError: this is not a graph of every item, or ``k`` exceeds its ``k``.
        """
        if k > self.k or not np.array_equal(self.queries, np.arange(len(self.queries))):
            raise ValueError(f"subset needs a neighbour graph of every item with k >= {k}")
        rows = np.arange(len(self.queries)) if queries is None else np.asarray(queries)
        return Neighbors(rows.astype(np.int64), self.indices[rows, :k], self.cosines[rows, :k])

    def to_dict(self) -> dict:
        return {
            "k": self.k,
            "queries": self.queries.tolist(),
            "indices": self.indices.tolist(),
            "cosines": np.round(self.cosines, 6).tolist(),
        }


def nearest_neighbors(
    X: np.ndarray,
    k: int = 5,
    *,
    queries: np.ndarray | None = None,
    exclude_self: bool = True,
    chunk_size: int | None = None,
) -> Neighbors:
    """Exact cosine k-nearest neighbours of ``queries`` among all rows of ``X``.

    Args:
        X: embeddings ``(n, dim)``; rows with NaN/inf are treated as all-zero (cosine 0
            with everything) so they never come first.
        k: neighbours per query (default 5).
        queries: int indices ``(q,)`` of the items to search for (default: all items).
        exclude_self: skip the query item itself (leave-one-out). Exact duplicates of the
            query at other indices are kept: they are real neighbours.
        chunk_size: queries per matmul (default: as many as fit in 256 MiB of cosines).

    Returns:
        :class:`Neighbors` with ``(q, k)`` indices and cosines, nearest first.

    Raises:
        ValueError: ``k < 1`` or ``k`` larger than the number of candidates
            (``n - 1`` with ``exclude_self``).
    """
    X = np.where(np.isfinite(X), X, 0.0).astype(np.float32, copy=False)
    n = len(X)
    if k < 1 or k > n - int(exclude_self):
        raise ValueError(f"k={k} must be between 1 and {n - int(exclude_self)} for {n} items")
    q_idx = np.arange(n) if queries is None else np.asarray(queries, dtype=np.int64)
    U = torch.from_numpy(l2_normalize(X))
    chunk = chunk_size or max(1, CHUNK_BYTES // (4 * n))
    out_idx = np.empty((len(q_idx), k), dtype=np.int64)
    out_cos = np.empty((len(q_idx), k), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(q_idx), chunk):
            q = torch.from_numpy(q_idx[start : start + chunk])
            sims = U[q] @ U.T
            if exclude_self:
                sims[torch.arange(len(q)), q] = -torch.inf
            values, indices = torch.topk(sims, k, dim=1)
            out_idx[start : start + len(q)] = indices.numpy()
            out_cos[start : start + len(q)] = values.clamp(-1.0, 1.0).numpy()
    return Neighbors(q_idx, out_idx, out_cos)


def k_occurrence(X: np.ndarray, k: int = 10) -> np.ndarray:
    """How often each item is among the ``k`` nearest neighbours of the others.

    ``N_k(x)`` of Radovanovic, Nanopoulos & Ivanovic (2010), "Hubs in space: popular
    nearest neighbors in high-dimensional data", JMLR 11. Mean is exactly ``k``.

    Returns:
        int64 ``(n,)`` counts.
    """
    nb = nearest_neighbors(X, k)
    return np.bincount(nb.indices.ravel(), minlength=len(X)).astype(np.int64)


def search(X: np.ndarray, Q: np.ndarray, k: int = 5) -> Neighbors:
    """Exact cosine k-nearest neighbours among the rows of ``X`` of new vectors ``Q``.

    For queries that are not items of ``X`` (e.g. texts a user brings to ``inspect
    --queries``), so nothing is excluded.

    Args:
        X: embeddings ``(n, dim)`` searched (NaN/inf rows count as all-zero).
        Q: query vectors ``(q, dim)``.
        k: neighbours per query, at most ``n``.

    Returns:
        :class:`Neighbors` whose ``queries`` are ``0..q-1`` (rows of ``Q``) and whose
        ``(q, k)`` indices are rows of ``X``, nearest first.

    Raises:
        ValueError: ``k`` not in ``1..n``, or ``Q`` of another dimension than ``X``.
    """
    X = np.where(np.isfinite(X), X, 0.0).astype(np.float32, copy=False)
    Q = np.where(np.isfinite(Q), Q, 0.0).astype(np.float32, copy=False)
    if Q.ndim != 2 or Q.shape[1] != X.shape[1]:
        raise ValueError(f"queries have shape {Q.shape}, the items {X.shape}: dims differ")
    if not 1 <= k <= len(X):
        raise ValueError(f"k={k} must be between 1 and {len(X)}")
    with torch.inference_mode():
        sims = torch.from_numpy(l2_normalize(Q)) @ torch.from_numpy(l2_normalize(X)).T
        values, indices = torch.topk(sims, k, dim=1)
    return Neighbors(
        np.arange(len(Q), dtype=np.int64),
        indices.numpy().astype(np.int64),
        values.clamp(-1.0, 1.0).numpy().astype(np.float32),
    )
