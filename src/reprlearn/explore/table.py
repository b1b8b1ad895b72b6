"""The explorer's data table: one row per item, one Parquet file.

Columns (embedding-atlas's conventions, so ``embedding-atlas TABLE --x x --y y
--neighbors neighbors`` reads it as is):

* ``row`` (0-based row number, what ``neighbors.ids`` point at), ``id`` (store id),
  ``label`` (name, or None), ``text`` (text stores) or ``image`` (PNG thumbnail bytes)
  and ``path`` (the image's path in the source);
* ``x``, ``y``: the 2-D coordinates of ``inspect``'s projection (PCA by default) of
  the first store; with several stores also ``x_NAME``, ``y_NAME`` per store;
* ``neighbors``: ``{"ids": [...], "distances": [...]}``, the k nearest rows by cosine
  (distance = 1 - cosine), from the store's index when it has one; ``neighbors_NAME``
  per store when there are several;
* ``knn_prediction``, ``knn_correct``: the leave-one-out kNN probe of DINO (votes
  ``exp(cos / 0.07)`` of those neighbours) and whether it is right (labelled stores);
* ``cluster``: k-means cluster (as many clusters as labels, else 10) of the first store;
* ``agreement``: with several stores, the mean pairwise Jaccard overlap of the items'
  k-NN sets across encoders (1 = all encoders agree on the neighbours, 0 = none do).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reprlearn.errors import StoreError
from reprlearn.search.items import load_items
from reprlearn.search.neighbors import knn
from reprlearn.search.shards import normalize_rows
from reprlearn.store import EmbeddingStore

THUMBNAIL = 48


@dataclass
class ExploreTable:
    """The table and what it was made from: ``frame`` (pandas), ``names`` (one short
    name per store: its folder name), ``modality``, ``k``, ``notes``."""

    frame: pd.DataFrame
    names: list[str]
    modality: str | None
    k: int
    notes: list[str]

    def to_parquet(self, path: str | Path) -> Path:
        path = Path(path)
        self.frame.to_parquet(path, index=False)
        return path


def _check_same_source(stores: list[EmbeddingStore]) -> None:
    first = stores[0]
    for other in stores[1:]:
        a, b = first.manifest.get("source_fingerprint"), other.manifest.get("source_fingerprint")
        if a != b or not np.array_equal(first.ids(), other.ids()):
            raise StoreError(
                f"{first.path} and {other.path} were not embedded from the same items (source "
                f"{a} vs {b}); explore compares encoders on one source: embed it with each"
            )


def _names(stores: list[EmbeddingStore]) -> list[str]:
    names = [s.path.name for s in stores]
    return names if len(set(names)) == len(names) else [f"{n}{i}" for i, n in enumerate(names)]


def _neighbours(store: EmbeddingStore, X: np.ndarray, ids: np.ndarray, rows_of: dict, k: int):
    """(row indices (n, k), cosines (n, k)) of each item's k nearest other items."""
    scores, nb_ids, _ = knn(store, X, k, exclude_ids=ids)
    rows = np.vectorize(lambda i: rows_of.get(int(i), -1), otypes=[np.int64])(nb_ids)
    return rows, scores


def _knn_vote(rows: np.ndarray, cos: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    from reprlearn.evaluation.knn import knn_vote

    valid = rows >= 0
    labels = np.where(valid, y[np.maximum(rows, 0)], 0)
    weights = np.where(valid, cos, -np.inf)  # exp(-inf) = 0: padding casts no vote
    return knn_vote(weights, labels, n_classes).argmax(1)


def _clusters(X: np.ndarray, n_clusters: int, seed: int) -> np.ndarray:
    """k-means cluster of each row, on the first 50 principal components of the unit
    rows (fast for wide embeddings such as tf-idf; clusters barely change)."""
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import PCA

    n_clusters = max(1, min(n_clusters, len(X)))
    Z = normalize_rows(X)
    if Z.shape[1] > 50 and len(Z) > 50:
        Z = PCA(50, random_state=seed).fit_transform(Z)
    km = MiniBatchKMeans(n_clusters, random_state=seed, n_init=1, batch_size=4096)
    return km.fit_predict(Z).astype(np.int64)


def _jaccard(sets: list[np.ndarray]) -> np.ndarray:
    """Mean pairwise Jaccard of each row's neighbour sets across encoders: ``(n,)``."""
    n = len(sets[0])
    total, pairs = np.zeros(n), 0
    for a in range(len(sets)):
        for b in range(a + 1, len(sets)):
            for i in range(n):
                sa, sb = set(sets[a][i].tolist()), set(sets[b][i].tolist())
                total[i] += len(sa & sb) / max(1, len(sa | sb))
            pairs += 1
    return total / max(1, pairs)


def _thumb(img: Any) -> bytes:
    buf = io.BytesIO()
    thumb = img.convert("RGB")
    thumb.thumbnail((THUMBNAIL, THUMBNAIL))
    thumb.save(buf, format="PNG")
    return buf.getvalue()


def build_table(
    stores: list[EmbeddingStore | str | Path],
    *,
    k: int = 10,
    projection: str = "pca",
    max_items: int | None = None,
    seed: int = 0,
) -> ExploreTable:
    """The explorer's table for one store, or several stores of the same source.

    Args:
        stores: stores (or folders); the first one gives ``x``, ``y``, ``neighbors``,
            ``cluster`` and the kNN prediction.
        k: neighbours per item (default 10).
        projection: ``pca`` (default, all items), ``tsne`` or ``umap`` (subsampled to
            the projection's limit, as in ``inspect``).
        max_items: keep a seeded sample of this many items (default: all for PCA).
        seed: seed of samples, projections and k-means.

    Raises:
        StoreError: stores of different sources.
    """
    from reprlearn.analysis.projection import MAX_POINTS, project_2d

    opened = [s if isinstance(s, EmbeddingStore) else EmbeddingStore.open(s) for s in stores]
    _check_same_source(opened)
    names = _names(opened)
    first = opened[0]
    X0, y = first.to_numpy()
    ids = first.ids()
    limit = max_items or (len(ids) if projection == "pca" else MAX_POINTS[projection])
    keep = np.arange(len(ids))
    if len(ids) > limit:
        keep = np.sort(np.random.default_rng(seed).choice(len(ids), limit, replace=False))
    ids = ids[keep]
    rows_of = {int(i): r for r, i in enumerate(ids)}
    k = int(min(k, len(ids) - 1))
    frame: dict[str, Any] = {"row": np.arange(len(ids)), "id": ids}
    names_ = first.label_names
    frame["label"] = (
        [None] * len(ids) if y is None else [names_[int(v)] if names_ else str(v) for v in y[keep]]
    )
    items = load_items(first, ids, images=True)
    notes = list(items.notes)
    if items.modality == "image":
        frame["image"] = [_thumb(items.image[int(i)]) for i in ids]
        frame["path"] = [items.text.get(int(i), "") for i in ids]
    else:
        frame["text"] = [items.text.get(int(i), "") for i in ids]
    neighbour_sets = []
    for n, (store, name) in enumerate(zip(opened, names, strict=True)):
        X = X0[keep] if n == 0 else store.to_numpy()[0][keep]
        points = project_2d(X, projection, seed=seed, max_points=len(X)).points
        rows, cos = _neighbours(store, X, ids, rows_of, k)
        column = [{"ids": r[r >= 0].tolist(), "distances": np.round(1 - c[r >= 0], 5).tolist()}
                  for r, c in zip(rows, cos, strict=True)]  # fmt: skip
        if len(opened) > 1:
            frame[f"x_{name}"], frame[f"y_{name}"] = points[:, 0], points[:, 1]
            frame[f"neighbors_{name}"] = column
        if n == 0:
            frame["x"], frame["y"], frame["neighbors"] = points[:, 0], points[:, 1], column
            if y is not None:
                pred = _knn_vote(rows, cos, y[keep], int(y.max()) + 1)
                frame["knn_prediction"] = [names_[int(p)] if names_ else str(p) for p in pred]
                frame["knn_correct"] = pred == y[keep]
            n_clusters = len(names_) if names_ else 10
            frame["cluster"] = _clusters(X, n_clusters, seed)
        neighbour_sets.append(rows)
    if len(opened) > 1:
        frame["agreement"] = np.round(_jaccard(neighbour_sets), 4)
    return ExploreTable(pd.DataFrame(frame), names, items.modality, k, notes)
