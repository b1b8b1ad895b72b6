"""Label-based retrieval: each item queries all the others by cosine similarity; an
item is relevant when it has the query's label.

Metrics (as in deep metric learning, e.g. Musgrave et al. 2020, "A Metric Learning
Reality Check"): **recall@k** = fraction of queries with at least one relevant item in
their top k; **mAP@k** = mean over queries of AP@k = (1 / min(k, R)) * sum over ranks
i <= k of precision@i * rel(i), with R the number of relevant items of the query.
Queries with no relevant item (singleton classes) are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reprlearn.evaluation.knn import cosine_topk
from reprlearn.evaluation.result import ResultMixin, fmt


@dataclass
class RetrievalResult(ResultMixin):
    """``recall_at[k]`` and ``map_at[k]`` (fractions) for each k, over ``n_queries`` queries."""

    recall_at: dict[int, float]
    map_at: dict[int, float]
    n_queries: int
    title = "label retrieval (cosine)"

    def rows(self) -> list[tuple[str, str]]:
        rows = [(f"recall@{k}", fmt(v)) for k, v in self.recall_at.items()]
        rows += [(f"mAP@{k}", fmt(v)) for k, v in self.map_at.items()]
        return rows + [("queries", str(self.n_queries))]


def retrieval_scores(
    X: np.ndarray,
    y: np.ndarray,
    ks: Sequence[int] = (1, 5, 10),
    *,
    backend: str = "auto",
    device: str = "auto",
) -> RetrievalResult:
    """Recall@k and mAP@k of leave-one-out cosine retrieval on ``X`` ``(n, dim)``, ``y`` ``(n,)``.

    Raises:
        ValueError: ``max(ks) >= n``.
    """
    y = np.asarray(y)
    kmax = max(ks)
    _, idx = cosine_topk(X, X, kmax, backend=backend, device=device, exclude_self=True)
    rel = y[idx] == y[:, None]  # (n, kmax)
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    n_relevant = counts[inverse] - 1
    valid = n_relevant > 0
    rel, n_relevant = rel[valid], n_relevant[valid]
    ranks = np.arange(1, kmax + 1)
    precision = np.cumsum(rel, axis=1) / ranks
    recall_at, map_at = {}, {}
    for k in ks:
        recall_at[int(k)] = float(rel[:, :k].any(1).mean())
        ap = (precision[:, :k] * rel[:, :k]).sum(1) / np.minimum(k, n_relevant)
        map_at[int(k)] = float(ap.mean())
    return RetrievalResult(recall_at, map_at, int(valid.sum()))
