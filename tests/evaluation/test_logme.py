import numpy as np
import pytest
from scipy.optimize import minimize

from reprlearn.evaluation.logme import logme, logme_fit


def direct_log_evidence(F, t, alpha, beta):
    """log N(t; 0, I/beta + F F^T / alpha), divided by N (slow, O(N^3))."""
    N = len(t)
    cov = np.eye(N) / beta + F @ F.T / alpha
    _, logdet = np.linalg.slogdet(cov)
    return (-0.5 * (N * np.log(2 * np.pi) + logdet + t @ np.linalg.solve(cov, t))) / N


def test_equals_the_maximised_direct_evidence_on_a_tiny_case():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(40, 5))
    y = (F[:, 0] + 0.5 * rng.normal(size=40) > 0).astype(int)
    fit = logme_fit(F, y)
    for c in range(2):
        t = (y == c).astype(float)
        at_fit = direct_log_evidence(F, t, fit.alpha[c], fit.beta[c])
        assert fit.evidence[c] == pytest.approx(at_fit, abs=2e-3)
        best = minimize(lambda p, t=t: -direct_log_evidence(F, t, *np.exp(p)), x0=[0.0, 0.0])
        assert fit.evidence[c] == pytest.approx(-best.fun, abs=2e-3)
    assert fit.score == pytest.approx(fit.evidence.mean())


def test_higher_for_features_that_encode_labels_than_for_noise(digits):
    X, y = digits
    noise = np.random.default_rng(0).normal(size=X.shape)
    onehot_ish = np.eye(10)[y] + 0.1 * np.random.default_rng(1).normal(size=(len(y), 10))
    assert logme(onehot_ish, y) > logme(X, y) > logme(noise, y)


def test_invariant_to_rotations_of_the_features(digits):
    X, y = digits
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(64, 64)))
    assert logme(X @ Q, y) == pytest.approx(logme(X, y), rel=1e-8)


def test_wide_features_use_the_direct_svd():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(20, 50))  # N < D
    y = np.arange(20) % 2
    assert np.isfinite(logme(F, y))
    with pytest.raises(ValueError):
        logme(F, y[:5])
