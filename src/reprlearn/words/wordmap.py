"""A 2-D map of chosen words (PCA of their unit vectors), written as a labelled PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from reprlearn.errors import DataError


def word_map(
    kv: Any, words: list[str], path: str | Path, *, title: str = "word map (PCA)"
) -> dict[str, list[float]]:
    """Project ``words`` to 2-D with PCA of their unit vectors and draw them at ``path``.

    Args:
        kv: gensim ``KeyedVectors``; words: at least 3 words (OOV ones raise, except
            fastText, which builds them from subwords).
        path: the PNG to write (150 dpi).

    Returns:
        ``{word: [x, y]}``.

    Raises:
        DataError: fewer than 3 words, or a word not in the vocabulary (with spellings).
    """
    from matplotlib.figure import Figure
    from sklearn.decomposition import PCA

    from reprlearn.words.analogy import check_words

    words = list(dict.fromkeys(words))
    if len(words) < 3:
        raise DataError(f"a word map needs at least 3 distinct words, got {len(words)}")
    check_words(kv, words)
    X = np.stack([kv[w] for w in words]).astype(np.float64)
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    pca = PCA(2, random_state=0).fit(X)
    P = pca.transform(X)
    fig = Figure(figsize=(7, 6))
    ax = fig.add_axes((0.1, 0.1, 0.85, 0.82))
    ax.scatter(P[:, 0], P[:, 1], s=18, c="#3b6ea8")
    for (x, y), w in zip(P, words, strict=True):
        ax.annotate(w, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=9)
    ev = pca.explained_variance_ratio_
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_xlabel(f"PC1 ({ev[0]:.0%} of variance)", fontsize=9)
    ax.set_ylabel(f"PC2 ({ev[1]:.0%})", fontsize=9)
    ax.grid(alpha=0.2)
    fig.savefig(Path(path), dpi=150)
    return {w: [round(float(x), 4), round(float(y), 4)] for (x, y), w in zip(P, words, strict=True)}
