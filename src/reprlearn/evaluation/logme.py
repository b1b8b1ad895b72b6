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
Features are used as given (float64, no centring), as in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


def _truncated_svd(f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SVD of ``f`` ``(N, D)`` with N > D through ``f^T f`` (reference ``truncated_svd``);
    keeps the ``rank`` directions with singular value > 1e-10."""
    _, s2, vh = np.linalg.svd(f.T @ f)
    s = np.sqrt(s2)
    rank = int((s > 1e-10).sum())
    s, vh = s[:rank], vh[:rank]
    u = (f @ vh.T) / s
    return u, s, vh


def _class_evidence(u: np.ndarray, sigma: np.ndarray, y_: np.ndarray, N: int, D: int):
    """Fixed-point evidence maximisation for one target ``y_`` ``(N,)``."""
    x = u.T @ y_
    x2 = x**2
    res_x2 = (y_**2).sum() - x2.sum()
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
    f = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if f.ndim != 2 or len(f) != len(y):
        raise ValueError(f"X must be (N, D) and y (N,); got {f.shape} and {y.shape}")
    if y.min() < 0:
        raise ValueError("LogME labels must be class indices >= 0")
    N, D = f.shape
    if N > D:
        u, s, _ = _truncated_svd(f)
    else:
        u, s, _ = np.linalg.svd(f, full_matrices=False)
    sigma = s**2
    out = [
        _class_evidence(u, sigma, (y == c).astype(np.float64), N, D)
        for c in range(int(y.max()) + 1)
    ]
    ev, alpha, beta = (np.array(v) for v in zip(*out, strict=True))
    return LogMEFit(ev, alpha, beta)


def logme(X: np.ndarray, y: np.ndarray) -> float:
    """LogME score (mean log evidence per sample) of ``X`` ``(N, D)`` for labels ``y`` ``(N,)``.

    Source: thuml/LogME ``LogME.py`` (see module doc). Raises ValueError as :func:`logme_fit`.
    """
    return logme_fit(X, y).score
