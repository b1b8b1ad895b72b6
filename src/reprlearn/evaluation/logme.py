"""LogME: the log marginal evidence of a Bayesian linear model from features to labels
(You et al. 2021, "LogME: Practical Assessment of Pre-trained Models for Transfer
Learning", ICML; fixed-point solver of You et al. 2022, "Ranking and Tuning Pre-trained
Models", JMLR).

A port of thuml/LogME ``LogME.py`` (``LogME._fit_fixed_point``): for each class c the
one-hot target ``y_c`` is modelled as ``y_c = F w + noise``, ``w ~ N(0, I/alpha)``,
``noise ~ N(0, I/beta)``; ``alpha`` and ``beta`` are found by the fixed-point iteration
of evidence maximisation (at most 11 steps, stop when ``alpha/beta`` changes < 0.1%),
and the score is the mean over classes of the maximised log evidence divided by the
number of samples. Higher = features from which labels are more linearly predictable.
Features are used as given (float64, no centring), as in the reference. With more
samples than features, the squared singular values and the projections on the singular
vectors come from :func:`reprlearn.evaluation.spectrum.gram_spectrum` (the reference's
``truncated_svd`` is an SVD of the symmetric ``f^T f``; here one tridiagonal reduction of
it, shared with RankMe, same numbers to float64 rounding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from reprlearn.evaluation.sparsity import sparse_view
from reprlearn.evaluation.spectrum import gram_spectrum, release


@dataclass
class LogMEFit:
    """Per-class results: evidence per sample ``(c,)``, ``alpha`` ``(c,)``, ``beta`` ``(c,)``."""

    evidence: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray

    @property
    def score(self) -> float:
        """LogME = mean over classes of the log evidence per sample."""
        return float(self.evidence.mean())


def _class_evidence(x: np.ndarray, sigma: np.ndarray, y_sq: float, N: int, D: int):
    """Fixed-point evidence maximisation for one target ``y_`` ``(N,)`` given its
    projection ``x = u^T y_`` ``(r,)`` on the left singular vectors and ``y_sq = |y_|^2``
    (the reference's ``x = u.T @ y_``, ``res_x2 = (y_**2).sum() - x2.sum()``)."""
    x2 = x**2
    res_x2 = y_sq - x2.sum()
    alpha, beta = 1.0, 1.0
    for _ in range(11):
        t = alpha / beta
        gamma = (sigma / (sigma + t)).sum()
        m2 = (sigma * x2 / ((t + sigma) ** 2)).sum()
        res2 = (x2 / ((1 + sigma / t) ** 2)).sum() + res_x2
        alpha = gamma / (m2 + 1e-5)
        beta = (N - gamma) / (res2 + 1e-5)
        if abs(alpha / beta - t) / t <= 1e-3:
            break
    evidence = (
        D / 2.0 * np.log(alpha)
        + N / 2.0 * np.log(beta)
        - 0.5 * np.sum(np.log(alpha + beta * sigma))
        - beta / 2.0 * res2
        - alpha / 2.0 * m2
        - N / 2.0 * np.log(2 * np.pi)
    )
    return evidence / N, alpha, beta


def logme_fit(X: np.ndarray, y: np.ndarray) -> LogMEFit:
    """Per-class LogME evidence of features ``X`` ``(N, D)`` for labels ``y`` int ``(N,)``
    in ``[0, C)`` (classes ``0..max(y)``, as the reference).

    Raises:
        ValueError: mismatched lengths or negative labels.
    """
    X, y = (X if sp.issparse(X) else np.asarray(X)), np.asarray(y)
    if X.ndim != 2 or X.shape[0] != len(y):
        raise ValueError(f"X must be (N, D) and y (N,); got {X.shape} and {y.shape}")
    if y.min() < 0:
        raise ValueError("LogME labels must be class indices >= 0")
    N, D = X.shape
    S = sparse_view(X)  # TF-IDF rows: every product below costs nnz, not N x D
    f = S.astype(np.float64) if S is not None else X.astype(np.float64)
    classes = int(y.max()) + 1
    Y = np.zeros((N, classes))
    Y[np.arange(N), y] = 1.0
    if N > D:
        # u^T Y = diag(1/s) V^T X^T Y: no (N, r) matrix u and no (D, D) matrix V is
        # formed; the spectrum of X^T X is the one RankMe took (shared, see spectrum.py)
        spectrum = gram_spectrum(S if S is not None else X)
        keep = np.sqrt(spectrum.eigenvalues) > 1e-10
        sigma = spectrum.eigenvalues[keep]
        proj = spectrum.project(np.asarray(f.T @ Y))[keep] / np.sqrt(sigma)[:, None]
        release()  # RankMe (before) and LogME (now) have used it: free its memory
        # the exact evidence counts the r directions with s > 0 (log det of
        # I/beta + F F^T / alpha); the reference's D equals r up to directions whose
        # rounding noise it keeps (each adds log(alpha)/2 - log(alpha + ~0)/2 = 0), but
        # an exactly null one (an all-zero column) it drops while still counting it in D
        D = len(sigma)
    else:
        dense = f.toarray() if S is not None else f
        u, s, _ = np.linalg.svd(dense, full_matrices=False)
        sigma, proj = s**2, u.T @ Y
    y_sq = Y.sum(0)
    out = [_class_evidence(proj[:, c], sigma, float(y_sq[c]), N, D) for c in range(classes)]
    ev, alpha, beta = (np.array(v) for v in zip(*out, strict=True))
    return LogMEFit(ev, alpha, beta)


def logme(X: np.ndarray, y: np.ndarray) -> float:
    """LogME score (mean log evidence per sample) of ``X`` ``(N, D)`` for labels ``y`` ``(N,)``.

    Source: thuml/LogME ``LogME.py`` (see module doc). Raises ValueError as :func:`logme_fit`.
    """
    return logme_fit(X, y).score
