"""Small evaluation work runs numpy's BLAS on one thread, with the same scores."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from reprlearn.evaluation import blas_threads, clustering, label_efficiency
from reprlearn.evaluation.blas_threads import SMALL_WORK, blas_threads_for


def _blas_threads() -> set[int]:
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_one_thread_below_the_bound_every_thread_above():
    before = _blas_threads()
    with blas_threads_for(SMALL_WORK - 1):
        assert _blas_threads() == {1}
    with blas_threads_for(SMALL_WORK):
        assert _blas_threads() == before
    assert _blas_threads() == before


@pytest.fixture
def spy_kmeans(monkeypatch):
    seen, fit_predict = [], clustering.KMeans.fit_predict

    def spy(self, X, *args, **kwargs):
        seen.append(_blas_threads())
        return fit_predict(self, X, *args, **kwargs)

    monkeypatch.setattr(clustering.KMeans, "fit_predict", spy)
    return seen


def test_kmeans_of_a_small_set_fits_on_one_blas_thread_with_the_same_scores(
    digits, spy_kmeans, monkeypatch
):
    X, y = digits
    small = clustering.kmeans_clustering(X, y, repeats=2)
    assert spy_kmeans == [{1}, {1}]
    monkeypatch.setattr(blas_threads, "SMALL_WORK", 0)  # every size counts as large
    large = clustering.kmeans_clustering(X, y, repeats=2)
    assert spy_kmeans[2:] == [_blas_threads()] * 2
    assert small.to_dict() == large.to_dict()


def test_label_efficiency_of_a_small_set_has_the_same_curve_on_one_thread(digits, monkeypatch):
    seen, fit = [], label_efficiency.LinearProbe.fit

    def spy(self, *args, **kwargs):
        seen.append(_blas_threads())
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(label_efficiency.LinearProbe, "fit", spy)
    X, y = digits
    X = X.astype(np.float32)
    args = (X[:1200], y[:1200], X[1200:], y[1200:])
    small = label_efficiency.label_efficiency(*args, budgets=[1, 5], repeats=2)
    assert seen == [{1}] * 4
    monkeypatch.setattr(blas_threads, "SMALL_WORK", 0)
    large = label_efficiency.label_efficiency(*args, budgets=[1, 5], repeats=2)
    assert seen[4:] == [_blas_threads()] * 4
    assert small.per_repeat == large.per_repeat
