import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

from reprlearn.evaluation.clustering import cluster_scores, kmeans_clustering


def test_scores_equal_sklearn_on_the_same_assignment(digits):
    X, y = digits
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    assignment = KMeans(10, n_init=3, random_state=0).fit_predict(Xn)
    direct = {
        "v_measure": v_measure_score(y, assignment),
        "nmi": normalized_mutual_info_score(y, assignment),
        "ari": adjusted_rand_score(y, assignment),
    }
    assert cluster_scores(y, assignment) == pytest.approx(direct)
    res = kmeans_clustering(X, y, n_init=3, repeats=1, seed=0)
    assert res.v_measure.value == pytest.approx(direct["v_measure"])
    assert res.ari.value == pytest.approx(direct["ari"])
    assert res.n_clusters == 10 and 0.6 < res.nmi.value < 1


def test_separated_clusters_score_one_and_noise_near_zero():
    X, y = make_blobs(600, n_features=8, centers=4, cluster_std=0.05, random_state=0)
    X = X + 20 * np.sign(X)  # keep blobs apart in angle too
    good = kmeans_clustering(X.astype(np.float32), y, n_init=2, repeats=2)
    assert good.v_measure.value == pytest.approx(1.0) and good.ari.value == pytest.approx(1.0)
    noise = np.random.default_rng(0).normal(size=(600, 8)).astype(np.float32)
    bad = kmeans_clustering(noise, y, n_init=2, repeats=2)
    assert bad.ari.value < 0.05 and bad.v_measure.std is not None
    with pytest.raises(ValueError):
        kmeans_clustering(noise[:3], y[:3], n_clusters=4)


def test_float64_seeding_gives_scikit_learns_k_means_plus_plus_clustering(digits):
    """The seeds drawn on a float64 copy (the fast path) are scikit-learn's own
    k-means++ seeds of the float32 rows: the same clustering, seed by seed."""
    from reprlearn.evaluation.clustering import kmeans_plusplus_float64
    from reprlearn.evaluation.knn import l2_normalize

    X, _ = digits
    Xn = l2_normalize(X.astype(np.float32))
    for seed in (0, 1):
        ours = KMeans(10, init=kmeans_plusplus_float64, n_init=3, random_state=seed).fit(Xn)
        theirs = KMeans(10, n_init=3, random_state=seed).fit(Xn)
        assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0
        assert ours.inertia_ == pytest.approx(theirs.inertia_, rel=1e-6)
