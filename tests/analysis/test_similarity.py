import numpy as np
import pytest
from sklearn.metrics.pairwise import cosine_similarity

from reprlearn.analysis.similarity import cosine_similarity_matrix, stratified_sample


def test_cosine_matrix_matches_sklearn_on_digits(digits):
    X, _ = digits
    sim = cosine_similarity_matrix(X[:200])
    assert sim.shape == (200, 200)
    assert sim.dtype == np.float32
    np.testing.assert_allclose(sim, cosine_similarity(X[:200]), atol=1e-5)
    np.testing.assert_allclose(np.diag(sim), 1.0, atol=1e-6)


def test_cosine_matrix_zero_row_is_zero_not_nan():
    X = np.array([[1.0, 0.0], [0.0, 0.0], [-2.0, 0.0]], dtype=np.float32)
    sim = cosine_similarity_matrix(X)
    assert np.isfinite(sim).all()
    np.testing.assert_allclose(sim[1], 0.0)
    assert sim[0, 2] == pytest.approx(-1.0)


def test_stratified_sample_takes_two_per_digit_grouped_by_label(digits):
    _, y = digits
    idx = stratified_sample(y, n=20, seed=0)
    assert len(idx) == 20 and len(set(idx.tolist())) == 20
    np.testing.assert_array_equal(y[idx], np.repeat(np.arange(10), 2))
    assert not np.array_equal(idx, stratified_sample(y, n=20, seed=1))
    np.testing.assert_array_equal(idx, stratified_sample(y, n=20, seed=0))


def test_stratified_sample_uneven_classes_round_robin():
    y = np.array([0] * 50 + [1] * 2 + [2] * 50)
    idx = stratified_sample(y, n=12, seed=3)
    counts = np.bincount(y[idx], minlength=3)
    # class 1 gives its only 2 items; the others share the rest evenly
    assert counts.tolist() == [5, 2, 5]
    assert np.all(np.diff(y[idx]) >= 0)


def test_stratified_sample_more_than_available_returns_all():
    y = np.array([0, 1, 1, 2])
    assert sorted(stratified_sample(y, n=10).tolist()) == [0, 1, 2, 3]


def test_unlabelled_sample_is_uniform_without_replacement():
    idx = stratified_sample(None, n=50, seed=0, n_items=1000)
    assert len(set(idx.tolist())) == 50
    assert idx.min() >= 0 and idx.max() < 1000
    assert np.all(np.diff(idx) > 0)
    with pytest.raises(ValueError, match="n_items"):
        stratified_sample(None, n=5)


def test_stratified_sample_draws_classes_at_random_from_the_seed():
    # before: a 77-class set always showed the first 10 classes in label order
    y = np.repeat(np.arange(77), 5)
    shown = [np.unique(y[stratified_sample(y, n=20, seed=s)]).tolist() for s in range(3)]
    assert all(len(c) == 10 for c in shown)
    assert shown[0] != list(range(10)) and shown[0] != shown[1] != shown[2]
    assert np.bincount(y[stratified_sample(y, n=20, seed=0)]).max() == 2


def test_stratified_sample_chosen_classes():
    y = np.repeat(np.arange(77), 5)
    idx = stratified_sample(y, n=9, seed=0, classes=[3, 40, 76])
    assert np.unique(y[idx]).tolist() == [3, 40, 76] and len(idx) == 9
    with pytest.raises(ValueError, match="none of the classes"):
        stratified_sample(y, n=9, classes=[99])
