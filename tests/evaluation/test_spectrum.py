"""The Gram spectrum shared by RankMe and LogME (issue 16 part 2): the tridiagonal
reduction gives numpy's eigenvalues and eigenvector projections, and RankMe then LogME on
the same features decompose once."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from reprlearn.analysis.geometry import effective_rank
from reprlearn.evaluation import spectrum
from reprlearn.evaluation.logme import logme
from reprlearn.evaluation.spectrum import gram_spectrum


@pytest.mark.parametrize("sparse", [False, True])
def test_eigenvalues_and_projections_equal_numpys_eigh(sparse):
    rng = np.random.default_rng(0)
    F = rng.standard_normal((400, 60)) * (rng.random((400, 60)) < (0.04 if sparse else 1))
    F[:, 5] = 0.0  # an all-zero column: no eigenvalue for it
    F = sp.csr_matrix(F) if sparse else F
    got = gram_spectrum(F)
    dense = F.toarray() if sparse else F
    G = (dense.T @ dense)[np.ix_(got.columns, got.columns)]
    ev, V = np.linalg.eigh(G)
    assert 5 not in got.columns and len(got.eigenvalues) == 59
    assert got.eigenvalues == pytest.approx(np.clip(ev, 0, None), abs=1e-10 * ev.max())
    B = rng.standard_normal((60, 7))
    # each eigenvector is defined up to its sign: compare |V^T B|
    assert np.abs(got.project(B)) == pytest.approx(np.abs(V.T @ B[got.columns]), abs=1e-9)


def test_rankme_then_logme_on_the_same_features_decompose_once(digits, monkeypatch):
    X, y = digits
    calls = []
    real = spectrum._decompose
    monkeypatch.setattr(spectrum, "_decompose", lambda *a: calls.append(1) or real(*a))
    spectrum._LAST.clear()
    rank, score = effective_rank(X), logme(X, y)
    assert len(calls) == 1  # LogME took the spectrum RankMe computed
    assert not spectrum._LAST  # and released it (no 4,096^2 matrices left in memory)
    spectrum._LAST.clear()
    assert (effective_rank(X), logme(X, y)) == (rank, score)
    assert logme(X + 1.0, y) != score and len(calls) == 3  # other values: a new one
