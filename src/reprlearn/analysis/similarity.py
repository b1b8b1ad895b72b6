"""Cosine similarity between embeddings, and a label-stratified sample to look at.

The first look at an embedding space (Goodfellow et al., Deep Learning, ch. 15; the
"embed 20 examples and draw the similarity matrix" habit): pick a few items spread over
the classes, draw their pairwise cosine similarities.
"""

from __future__ import annotations

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
) -> np.ndarray:
    """Indices of up to ``n`` items spread evenly over the labels, grouped by label.

    Labels take turns (round-robin in label order, items within a label in a seeded
    random order) until ``n`` items are picked, so each class gets ``n // n_classes`` or
    one more item while it has them. The result is sorted by (label, index) so a
    similarity matrix drawn in this order shows one block per class. Without labels the
    sample is uniform without replacement (sorted by index).

    Args:
        y: integer labels ``(n_items,)``, or None for unlabelled data.
        n: how many items to pick (all of them when there are fewer).
        seed: random seed.
        n_items: number of items; required when ``y`` is None.

    Returns:
        int64 ``(min(n, n_items),)`` indices.

    Raises:
        ValueError: ``y`` is None and ``n_items`` is not given, or ``n < 1``.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    if y is None:
        if n_items is None:
            raise ValueError("stratified_sample needs n_items when y is None")
        return np.sort(rng.choice(n_items, size=min(n, n_items), replace=False)).astype(np.int64)
    y = np.asarray(y)
    pools = [rng.permutation(np.flatnonzero(y == c)).tolist() for c in np.unique(y)]
    picked: list[int] = []
    while len(picked) < min(n, len(y)):
        for pool in pools:
            if pool and len(picked) < n:
                picked.append(pool.pop())
    picked_arr = np.asarray(picked, dtype=np.int64)
    return picked_arr[np.lexsort((picked_arr, y[picked_arr]))]
