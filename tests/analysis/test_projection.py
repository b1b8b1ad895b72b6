import sys

import numpy as np
import pytest
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from reprlearn.analysis.neighbors import nearest_neighbors
from reprlearn.analysis.projection import MissingDependencyError, project_2d
from reprlearn.errors import ReprlearnError


def test_pca_is_sklearn_pca_on_all_points(digits):
    X, _ = digits
    proj = project_2d(X)
    assert proj.method == "pca" and proj.points.shape == (len(X), 2)
    assert proj.points.dtype == np.float32
    ref = PCA(2).fit(X)
    np.testing.assert_allclose(proj.explained_variance, ref.explained_variance_ratio_, rtol=1e-4)
    # same axes up to sign
    corr = [abs(np.corrcoef(proj.points[:, i], ref.transform(X)[:, i])[0, 1]) for i in (0, 1)]
    assert min(corr) > 0.999


def test_large_sets_are_subsampled_with_a_seed(digits):
    X, _ = digits
    a = project_2d(X, max_points=500, seed=1)
    b = project_2d(X, max_points=500, seed=1)
    c = project_2d(X, max_points=500, seed=2)
    assert a.points.shape == (500, 2) and len(np.unique(a.indices)) == 500
    np.testing.assert_array_equal(a.indices, b.indices)
    assert not np.array_equal(a.indices, c.indices)


def test_tsne_keeps_digit_neighbourhoods(digits):
    X, y = digits
    # one OpenMP thread: on a busy shared CPU, spinning threads make t-SNE 15x slower
    with threadpool_limits(1):
        proj = project_2d(X[:400], "tsne", seed=0)
    assert proj.points.shape == (400, 2) and proj.explained_variance is None
    # neighbours in the 2-D map are mostly of the same digit (~95% in 64-D)
    agreement = nearest_neighbors(proj.points - proj.points.mean(0), 5).label_agreement(y[:400])
    pca = project_2d(X[:400], "pca")
    pca_agreement = nearest_neighbors(pca.points - pca.points.mean(0), 5).label_agreement(y[:400])
    assert agreement > 0.8 and agreement > pca_agreement


def test_umap_without_umap_learn_says_how_to_install(digits, monkeypatch):
    X, _ = digits
    monkeypatch.setitem(sys.modules, "umap", None)  # import umap -> ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install reprlearn\[umap\]") as info:
        project_2d(X[:50], "umap")
    assert isinstance(info.value, ReprlearnError) and isinstance(info.value, ImportError)


def test_bad_method_and_tiny_input():
    with pytest.raises(ValueError, match="pca, tsne, umap"):
        project_2d(np.zeros((10, 3)), "isomap")
    with pytest.raises(ValueError, match="at least 3"):
        project_2d(np.zeros((2, 3)))
