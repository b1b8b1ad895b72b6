import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from reprlearn.analysis.neighbors import k_occurrence, nearest_neighbors


def test_matches_sklearn_brute_force_cosine(digits):
    X, _ = digits
    nb = nearest_neighbors(X, k=5, chunk_size=300)
    dist, ind = NearestNeighbors(n_neighbors=6, metric="cosine").fit(X).kneighbors(X)
    ref_cos = 1 - dist[:, 1:]
    np.testing.assert_allclose(nb.cosines, ref_cos, atol=1e-5)
    # where cosines are not tied the neighbour identities must agree
    assert (nb.indices == ind[:, 1:]).mean() > 0.99
    assert nb.indices.shape == (len(X), 5) and nb.indices.dtype == np.int64
    assert np.all(np.diff(nb.cosines, axis=1) <= 1e-7)


def test_self_is_excluded_but_duplicates_are_neighbours(digits):
    X, _ = digits
    X = np.vstack([X[:100], X[:1]])  # row 100 duplicates row 0
    nb = nearest_neighbors(X, k=3)
    assert not np.any(nb.indices == nb.queries[:, None])
    assert nb.indices[0, 0] == 100 and nb.cosines[0, 0] == pytest.approx(1.0, abs=1e-6)
    assert nb.indices[100, 0] == 0


def test_query_subset_and_chunking_agree_with_full(digits):
    X, _ = digits
    full = nearest_neighbors(X, k=4)
    queries = np.array([5, 17, 900, 1796])
    part = nearest_neighbors(X, k=4, queries=queries, chunk_size=3)
    np.testing.assert_array_equal(part.indices, full.indices[queries])
    np.testing.assert_allclose(part.cosines, full.cosines[queries], atol=1e-6)


def test_label_agreement_digits_and_separated_clusters(digits):
    X, y = digits
    agreement = nearest_neighbors(X, k=5).label_agreement(y)
    assert 0.95 < agreement < 1.0  # pixel kNN on digits is ~98% accurate
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 8)) * 0.1 + np.eye(8)[0]
    b = rng.normal(size=(50, 8)) * 0.1 - np.eye(8)[0]
    labels = np.repeat([0, 1], 50)
    assert nearest_neighbors(np.vstack([a, b]), k=5).label_agreement(labels) == 1.0
    shuffled = rng.permutation(labels)
    assert nearest_neighbors(np.vstack([a, b]), k=5).label_agreement(shuffled) < 0.7


def test_nan_rows_never_come_first(digits):
    X, _ = digits
    X = X[:50].copy()
    X[7] = np.nan
    nb = nearest_neighbors(X, k=3)
    assert np.isfinite(nb.cosines).all()
    assert 7 not in nb.indices[:, 0]


def test_k_occurrence_counts_sum_to_n_times_k(digits):
    X, _ = digits
    counts = k_occurrence(X[:300], k=10)
    assert counts.sum() == 300 * 10
    assert counts.min() >= 0


def test_k_out_of_range_raises():
    X = np.eye(4, dtype=np.float32)
    with pytest.raises(ValueError, match="between 1 and 3"):
        nearest_neighbors(X, k=4)
