"""Clustering quality: k-means with k = number of classes on L2-normalised features,
scored against the labels by V-measure, NMI and ARI.

Protocol as in the clustering tasks of MTEB (``ClusteringEvaluator``: k-means with k =
number of labels, V-measure) with NMI and ARI added (Hubert & Arabie 1985; Vinh et al.
2010); scikit-learn's ``KMeans`` (Lloyd iterations from k-means++ inits, the lowest
inertia of ``n_init=3`` inits kept) and ``sklearn.metrics``. The score is the mean and
the spread the std over ``repeats`` (3) seeds.

Until issue 16 each seed kept the best of ``n_init=10`` inits (3.3x the work). Measured
on the 10k-text, 54-class set of ``benchmarks/compare_stages.py`` (V-measure, mean ± std
over 3 seeds, n_init 10 -> 3): MiniLM 0.3852 ± 0.0060 -> 0.3847 ± 0.0079, LSA-256
0.3626 ± 0.0116 -> 0.3568 ± 0.0194, TF-IDF 0.3633 ± 0.0088 -> 0.3618 ± 0.0072: within
the old spread. One init per seed (scikit-learn's and MTEB's ``n_init="auto"``) was
within it on these three (0.3812, 0.3583, 0.3541) but not on a TF-IDF-like synthetic
set (V-measure 0.454 vs 0.591 ± 0.046, ``tests/evaluation/test_fast_paths_pinned.py``);
three inits gave 0.567 there. MTEB's ``MiniBatchKMeans(batch_size=500, n_init="auto")``
measured further off (MiniLM 0.3724, LSA 0.3368), FAISS k-means (random init, 25
iterations) lower on the synthetic set (0.525 with 10 inits), so neither is used.
Mostly-zero rows (TF-IDF) go to ``KMeans`` as CSR (the same Lloyd iterations from the
same k-means++ seeds, each distance costing the row's non-zeros instead of ``dim``).

Dense float32 rows get their k-means++ seeds from ``sklearn.cluster.kmeans_plusplus`` on a
float64 copy (:func:`kmeans_plusplus_float64`, passed to ``KMeans`` as its ``init``
callable, so the same random stream draws the same seeds): for float32 input scikit-learn
computes each seeding distance in float64 anyway, but through chunked up-casting copies
that made the seeding 2-3x slower than the Lloyd iterations after it. Same centres, same
clustering (the inertias of all three seeds agree to the last printed digit on the
benchmark's MiniLM and LSA stores); k-means took 9.2 -> 2.7 s on MiniLM's 10k x 384.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

from reprlearn.evaluation.blas_threads import blas_threads_for
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


def kmeans_plusplus_float64(
    X: np.ndarray, n_clusters: int, random_state: np.random.RandomState
) -> np.ndarray:
    """k-means++ seeds (Arthur & Vassilvitskii 2007; scikit-learn's greedy variant,
    ``sklearn.cluster.kmeans_plusplus``) of ``X`` ``(n, dim)`` computed on a float64
    copy, returned as ``(n_clusters, dim)`` in ``X``'s dtype: ``KMeans``'s ``init``
    callable (it passes its own ``random_state``). See the module doc for why."""
    centers, _ = kmeans_plusplus(
        np.asarray(X, dtype=np.float64), n_clusters, random_state=random_state
    )
    return centers.astype(X.dtype, copy=False)


def kmeans_clustering(
    X: np.ndarray,
    y: np.ndarray,
    *,
    n_clusters: int | None = None,
    n_init: int = 3,
    repeats: int = 3,
    seed: int = 0,
) -> ClusteringResult:
    """k-means on L2-normalised ``X`` ``(n, dim)``, scored against ``y`` ``(n,)``.

    Args:
        n_clusters: default the number of distinct labels in ``y``.
        n_init: k-means++ inits per seed, the lowest inertia kept (default 3; 10
            before issue 16, see the module doc).
        repeats: runs with seeds ``seed, seed+1, ...`` (default 3) for the std.

    Raises:
        ValueError: fewer rows than clusters.
    """
    k = n_clusters or len(np.unique(y))
    if X.shape[0] < k:
        raise ValueError(f"{X.shape[0]} items cannot form {k} clusters")
    Xn = l2_normalize(X)  # CSR in, CSR out
    if not sp.issparse(Xn) and (S := sparse_view(Xn)) is not None:  # TF-IDF: CSR
        Xn = S
    init = "k-means++" if sp.issparse(Xn) else kmeans_plusplus_float64
    runs = []
    with blas_threads_for(X.shape[0] * X.shape[1] * k):  # small: one thread (see there)
        for r in range(repeats):
            km = KMeans(k, init=init, n_init=n_init, random_state=seed + r)
            runs.append(cluster_scores(y, km.fit_predict(Xn)))
    return ClusteringResult(
        v_measure=mean_std([s["v_measure"] for s in runs]),
        nmi=mean_std([s["nmi"] for s in runs]),
        ari=mean_std([s["ari"] for s in runs]),
        n_clusters=k,
        repeats=repeats,
    )
