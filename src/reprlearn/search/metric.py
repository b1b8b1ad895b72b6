"""Which similarity an index and a search use: cosine, inner product or L2.

A store made with ``--normalize`` holds unit vectors, so cosine = inner product. A store
may name its metric in the manifest (``"metric": "ip" | "l2" | "cosine"``); otherwise
reprlearn's default is cosine (what ``inspect`` and the kNN probe use), applied by
normalising the vectors before they enter the index and the queries before a search.
"""

from __future__ import annotations

import numpy as np

from reprlearn.errors import ReprlearnError
from reprlearn.search.shards import normalize_rows
from reprlearn.store import EmbeddingStore

METRICS = ("cosine", "ip", "l2")


def store_metric(store: EmbeddingStore, metric: str | None = None) -> str:
    """The metric to use for ``store``: ``metric`` when given, else the manifest's
    ``metric``, else ``"cosine"``.

    Raises:
        ReprlearnError: an unknown metric name.
    """
    chosen = metric or store.manifest.get("metric") or "cosine"
    if chosen not in METRICS:
        raise ReprlearnError(f"unknown metric {chosen!r}: choose one of {', '.join(METRICS)}")
    return chosen


def prepare_vectors(X: np.ndarray, metric: str) -> np.ndarray:
    """Vectors as they enter the index: unit rows for cosine, as is otherwise (float32)."""
    if metric == "cosine":
        return normalize_rows(X)
    return np.ascontiguousarray(X, dtype=np.float32)


def faiss_metric(metric: str) -> int:
    """FAISS metric constant: inner product for cosine/ip, L2 for l2."""
    import faiss

    return faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT


def higher_is_better(metric: str) -> bool:
    """Scores are similarities (cosine, ip) or distances (l2: squared L2, lower is nearer)."""
    return metric != "l2"
