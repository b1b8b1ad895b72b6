"""Clustering quality: k-means with k = number of classes on L2-normalised features,
scored against the labels by V-measure, NMI and ARI.

Protocol as in the clustering tasks of MTEB (``ClusteringEvaluator``: k-means with k =
number of labels, V-measure) with NMI and ARI added (Hubert & Arabie 1985; Vinh et al.
2010); scikit-learn's ``KMeans`` (k-means++ init, ``n_init=10``) and ``sklearn.metrics``.
The spread is the std over ``repeats`` k-means seeds. Mostly-zero rows (TF-IDF) go to
``KMeans`` as CSR (the same Lloyd iterations from the same k-means++ seeds, each
distance costing the row's non-zeros instead of ``dim``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

from reprlearn.evaluation.knn import l2_normalize
from reprlearn.evaluation.result import ResultMixin
from reprlearn.evaluation.sparsity import sparse_view
from reprlearn.evaluation.statistics import Score, mean_std


@dataclass
class ClusteringResult(ResultMixin):
    """V-measure, NMI, ARI (each mean ± std over k-means seeds) and the k used."""

    v_measure: Score
    nmi: Score
    ari: Score
    n_clusters: int
    repeats: int
    title = "k-means clustering"

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("V-measure", str(self.v_measure)),
            ("NMI", str(self.nmi)),
            ("ARI", str(self.ari)),
            ("k (= classes)", str(self.n_clusters)),
        ]


def cluster_scores(y_true: np.ndarray, assignment: np.ndarray) -> dict[str, float]:
    """V-measure, NMI (arithmetic mean normalisation, sklearn's default) and ARI of a
    cluster ``assignment`` ``(n,)`` against labels ``y_true`` ``(n,)``."""
    return {
        "v_measure": float(v_measure_score(y_true, assignment)),
        "nmi": float(normalized_mutual_info_score(y_true, assignment)),
        "ari": float(adjusted_rand_score(y_true, assignment)),
    }


def kmeans_clustering(
    X: np.ndarray,
    y: np.ndarray,
    *,
    n_clusters: int | None = None,
    n_init: int = 10,
    repeats: int = 3,
    seed: int = 0,
) -> ClusteringResult:
    """k-means on L2-normalised ``X`` ``(n, dim)``, scored against ``y`` ``(n,)``.

    Args:
        n_clusters: default the number of distinct labels in ``y``.
        n_init: k-means restarts per run (best inertia kept; default 10).
        repeats: runs with seeds ``seed, seed+1, ...`` (default 3) for the std.

    Raises:
        ValueError: fewer rows than clusters.
    """
    k = n_clusters or len(np.unique(y))
    if len(X) < k:
        raise ValueError(f"{len(X)} items cannot form {k} clusters")
    Xn = l2_normalize(X)
    if (S := sparse_view(Xn)) is not None:  # TF-IDF: CSR
        Xn = S
    runs = []
    for r in range(repeats):
        assignment = KMeans(k, n_init=n_init, random_state=seed + r).fit_predict(Xn)
        runs.append(cluster_scores(y, assignment))
    return ClusteringResult(
        v_measure=mean_std([s["v_measure"] for s in runs]),
        nmi=mean_std([s["nmi"] for s in runs]),
        ari=mean_std([s["ari"] for s in runs]),
        n_clusters=k,
        repeats=repeats,
    )
