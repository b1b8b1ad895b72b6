"""2-D maps of an embedding space: PCA (default), t-SNE, UMAP.

* ``pca``: scikit-learn ``PCA(n_components=2)``; linear, deterministic, fast. Distances
  along the axes are real, but most of the structure may lie in other directions.
* ``tsne``: scikit-learn ``TSNE`` (van der Maaten & Hinton 2008) with PCA init and
  perplexity ``min(30, (m - 1) / 3)``, on L2-normalised rows (so Euclidean distances
  follow cosine). Local neighbourhoods are kept; cluster sizes and gaps are not
  meaningful.
* ``umap``: umap-learn (McInnes et al. 2018) with the cosine metric; optional
  dependency (``pip install reprlearn[umap]``), imported only when asked for.

Large sets are subsampled (seeded, uniformly) before projecting: at most
:data:`MAX_POINTS` points per method.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np

from reprlearn.analysis.similarity import l2_normalize
from reprlearn.errors import ReprlearnError

METHODS = ("pca", "tsne", "umap")
MAX_POINTS = {"pca": 20_000, "tsne": 5_000, "umap": 10_000}


class MissingDependencyError(ReprlearnError, ImportError):
    """An optional dependency is not installed; the message gives the pip command."""


@dataclass
class Projection:
    """A 2-D projection of (a subsample of) the items.

    Attributes:
        points: float32 ``(m, 2)`` coordinates.
        indices: int64 ``(m,)`` row of each point in the projected embeddings.
        method: ``"pca"``, ``"tsne"`` or ``"umap"``.
        explained_variance: PCA only: share of variance along each axis ``(2,)``.
    """

    points: np.ndarray
    indices: np.ndarray
    method: str
    explained_variance: np.ndarray | None = None

    def to_dict(self) -> dict:
        ev = None if self.explained_variance is None else self.explained_variance.tolist()
        return {"method": self.method, "num_points": len(self.points), "explained_variance": ev}


def project_2d(
    X: np.ndarray,
    method: str = "pca",
    *,
    seed: int = 0,
    max_points: int | None = None,
) -> Projection:
    """Project the embeddings ``X`` ``(n, dim)`` to 2-D.

    Args:
        X: embeddings ``(n, dim)``, finite values, ``n >= 3``.
        method: ``"pca"`` (default), ``"tsne"`` or ``"umap"`` (needs umap-learn).
        seed: seed of the subsample and of t-SNE/UMAP.
        max_points: subsample size above which points are dropped (default
            :data:`MAX_POINTS` of the method: 20,000 PCA, 5,000 t-SNE, 10,000 UMAP).

    Returns:
        :class:`Projection` with ``(m, 2)`` points and the rows they come from.

    Raises:
        ValueError: unknown method, or fewer than 3 items.
        MissingDependencyError: ``umap`` without umap-learn installed.
    """
    if method not in METHODS:
        raise ValueError(f"unknown projection {method!r}; choose one of {', '.join(METHODS)}")
    if len(X) < 3:
        raise ValueError(f"need at least 3 items to project, got {len(X)}")
    limit = max_points or MAX_POINTS[method]
    rng = np.random.default_rng(seed)
    idx = np.arange(len(X))
    if len(X) > limit:
        idx = np.sort(rng.choice(len(X), size=limit, replace=False))
    Xs = np.asarray(X, dtype=np.float32)[idx]
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed).fit(Xs)
        return Projection(_f32(pca.transform(Xs)), idx, method, pca.explained_variance_ratio_)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, (len(Xs) - 1) / 3))
        tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=seed)
        return Projection(_f32(tsne.fit_transform(l2_normalize(Xs))), idx, method)
    return Projection(_f32(_umap(Xs, seed)), idx, method)


def check_available(method: str) -> None:
    """Raise :class:`MissingDependencyError` when ``method`` needs a missing package."""
    if method == "umap" and importlib.util.find_spec("umap") is None:
        raise MissingDependencyError(
            "projection 'umap' needs umap-learn, which is not installed: "
            "pip install reprlearn[umap] (or use --projection pca / tsne)"
        )


def _umap(X: np.ndarray, seed: int) -> np.ndarray:
    check_available("umap")
    import umap

    n_neighbors = min(15, len(X) - 1)
    return umap.UMAP(n_neighbors=n_neighbors, metric="cosine", random_state=seed).fit_transform(X)


def _f32(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)
