"""DCI and MIG on constructed codes with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import special_ortho_group

from reprlearn.evaluation.disentanglement import dci, dci_from_importance, discretize, mig


@pytest.fixture(scope="module")
def factors() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.stack([rng.integers(0, k, 1000) for k in (3, 5, 6)], axis=1)


def _perfect(factors: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(1)
    z = (factors - factors.mean(0)) / factors.std(0)
    return z + 0.01 * rng.standard_normal(z.shape)


def test_importance_matrix_formulas():
    # diagonal importances: each code explains one factor and vice versa
    assert dci_from_importance(np.eye(3)) == pytest.approx((1.0, 1.0), abs=1e-6)
    # every code spreads evenly over all factors: D = C = 0
    assert dci_from_importance(np.ones((3, 3))) == pytest.approx((0.0, 0.0), abs=1e-6)
    # two codes share one factor: disentangled codes, incomplete factor
    d, c = dci_from_importance(np.array([[0.5, 0.0], [0.5, 0.0], [0.0, 1.0]]))
    assert d == pytest.approx(1.0, abs=1e-6) and 0.4 < c < 0.9


@pytest.mark.parametrize("method", ["gbt", "forest"])
def test_dci_perfect_rotated_noise(factors, method):
    perfect = _perfect(factors)
    rotated = perfect @ special_ortho_group.rvs(3, random_state=3)
    noise = np.random.default_rng(2).standard_normal(perfect.shape)
    s_perfect = dci(perfect, factors, method=method)
    s_rotated = dci(rotated, factors, method=method)
    s_noise = dci(noise, factors, method=method)
    assert s_perfect.disentanglement > 0.9 and s_perfect.completeness > 0.9
    assert s_perfect.informativeness > 0.97
    assert s_rotated.disentanglement < s_perfect.disentanglement - 0.25
    assert s_rotated.completeness < s_perfect.completeness - 0.25
    assert s_noise.informativeness < 0.45  # chance is 1/3, 1/5, 1/6
    assert s_noise.disentanglement < 0.2 and s_noise.completeness < 0.2
    assert s_perfect.importance.shape == (3, 3)


def test_mig_perfect_rotated_noise(factors):
    perfect = _perfect(factors)
    rotated = perfect @ special_ortho_group.rvs(3, random_state=3)
    noise = np.random.default_rng(2).standard_normal(perfect.shape)
    assert mig(perfect, factors).mig > 0.9
    assert mig(rotated, factors).mig < 0.5
    assert mig(noise, factors).mig < 0.05
    # a duplicated code: the gap closes although the information is all there
    assert mig(np.hstack([perfect, perfect[:, :1]]), factors).per_factor[0] < 0.05


def test_discretize_and_errors(factors):
    rng = np.random.default_rng(0)
    codes = np.linspace(0, 1, 100)[:, None]
    assert set(np.unique(discretize(codes, bins=4))) == {1, 2, 3, 4}
    with pytest.raises(ValueError, match="single value"):
        mig(rng.random((10, 2)), np.zeros((10, 1), dtype=int))
    with pytest.raises(ValueError, match="same n"):
        dci(rng.random((10, 2)), factors)
