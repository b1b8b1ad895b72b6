"""Cosine similarity between embeddings, and a label-stratified sample to look at.

The first look at an embedding space (Goodfellow et al., Deep Learning, ch. 15; the
"embed 20 examples and draw the similarity matrix" habit): pick a few items spread over
the classes, draw their pairwise cosine similarities.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EPS = 1e-12


def l2_normalize(X: np.ndarray) -> np.ndarray:
    """Rows of ``X`` ``(n, dim)`` scaled to unit L2 norm, float32 ``(n, dim)``.

    All-zero rows stay zero (their norm is clamped to ``1e-12``), so they have cosine 0
    with everything.
    """
    X = np.asarray(X, dtype=np.float32)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(norms, EPS)


def cosine_similarity_matrix(X: np.ndarray) -> np.ndarray:
    """Pairwise cosine similarities of the rows of ``X``.

    Args:
        X: embeddings, ``(n, dim)``.

    Returns:
        float32 ``(n, n)``, values in [-1, 1]; 1 on the diagonal (0 for all-zero rows).
    """
    U = l2_normalize(X)
    return np.clip(U @ U.T, -1.0, 1.0)


def stratified_sample(
    y: np.ndarray | None,
    n: int = 20,
    seed: int = 0,
    *,
    n_items: int | None = None,
    classes: Sequence[int] | None = None,
    max_classes: int | None = None,
) -> np.ndarray:
    """Indices of up to ``n`` items spread evenly over seeded random classes, grouped by label.

    The classes shown are all of them when they fit (at most ``max_classes``, default
    ``max(1, n // 2)`` so each shows at least two items and a block in the similarity
    matrix), else a seeded random subset (not the first classes in label order, so a
    77-class dataset shows other classes for another ``seed``); ``classes`` chooses them.
    Classes then take turns (round-robin, items within a class in a seeded random order)
    until ``n`` items are picked, so each gets ``n // n_classes`` or one more while it has
    them. The result is sorted by (label, index): one block per class. Without labels the
    sample is uniform without replacement (sorted by index).

    Args:
        y: integer labels ``(n_items,)``, or None for unlabelled data.
        n: how many items to pick (all of them when there are fewer).
        seed: random seed of the classes and the items.
        n_items: number of items; required when ``y`` is None.
        classes: label ids to sample from (default: chosen at random, see above).
        max_classes: most classes shown (default ``max(1, n // 2)``); ignored with ``classes``.

    Returns:
        int64 ``(min(n, items available),)`` indices.

    Raises:
        ValueError: ``y`` is None and ``n_items`` is not given, ``n < 1``, or ``classes``
            names no label present in ``y``.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    if y is None:
        if n_items is None:
            raise ValueError("stratified_sample needs n_items when y is None")
        return np.sort(rng.choice(n_items, size=min(n, n_items), replace=False)).astype(np.int64)
    y = np.asarray(y)
    present = np.unique(y)
    if classes is not None:
        present = present[np.isin(present, np.asarray(list(classes)))]
        if len(present) == 0:
            raise ValueError(f"none of the classes {list(classes)} has items")
    else:
        limit = max_classes if max_classes is not None else max(1, n // 2)
        if len(present) > limit:
            present = np.sort(rng.choice(present, size=limit, replace=False))
    pools = [rng.permutation(np.flatnonzero(y == c)).tolist() for c in present]
    total = sum(len(p) for p in pools)
    picked: list[int] = []
    while len(picked) < min(n, total):
        for pool in pools:
            if pool and len(picked) < n:
                picked.append(pool.pop())
    picked_arr = np.asarray(picked, dtype=np.int64)
    return picked_arr[np.lexsort((picked_arr, y[picked_arr]))]
