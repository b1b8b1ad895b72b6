"""Spreads for scores: mean and standard deviation, and percentile bootstrap intervals.

Every score reprlearn reports carries a spread: the std over folds/experiments
(:func:`mean_std`) or a 95% percentile bootstrap confidence interval over test items
(:func:`bootstrap_ci`; Efron & Tibshirani 1993, "An Introduction to the Bootstrap", ch. 13).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from reprlearn.evaluation.result import ResultMixin


@dataclass
class Score(ResultMixin):
    """A score with its spread.

    Attributes:
        value: the point estimate (mean over folds/experiments, or the full-test score).
        std: std over folds/experiments (population std, ``ddof=0`` as SentEval/MTEB), or None.
        ci_low, ci_high: 95% bootstrap interval, or None.
        n: number of folds/experiments (for ``std``) or of test items (for the interval).
    """

    value: float
    std: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0

    def __str__(self) -> str:
        if self.std is not None:
            return f"{self.value:.4f} ± {self.std:.4f}"
        if self.ci_low is not None:
            return f"{self.value:.4f} [{self.ci_low:.4f}, {self.ci_high:.4f}]"
        return f"{self.value:.4f}"


def mean_std(values: Sequence[float] | np.ndarray) -> Score:
    """Mean and population std (``ddof=0``) of per-fold/per-experiment scores.

    Raises:
        ValueError: ``values`` is empty.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("mean_std needs at least one value")
    return Score(value=float(arr.mean()), std=float(arr.std()), n=int(arr.size))


def bootstrap_ci(
    values: np.ndarray,
    statistic: Callable[[np.ndarray], float] = np.mean,
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over the rows of ``values``.

    Args:
        values: ``(n,)`` per-item values (e.g. 0/1 correctness), or ``(n, ...)`` rows that
            ``statistic`` maps to a float.
        statistic: called on a resample (rows drawn with replacement); default the mean.
        n_resamples: number of bootstrap resamples (default 1000).
        level: coverage (default 0.95 -> 2.5 and 97.5 percentiles).
        seed: seed of the ``numpy.random.default_rng`` drawing the resamples.

    Returns:
        ``(low, high)``.

    Raises:
        ValueError: empty ``values`` or ``level`` outside (0, 1).
    """
    values = np.asarray(values)
    if len(values) == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    n = len(values)
    if statistic is np.mean and values.ndim == 1:  # vectorised fast path
        idx = rng.integers(0, n, size=(n_resamples, n))
        stats = values[idx].mean(axis=1)
    else:
        stats = np.array(
            [statistic(values[rng.integers(0, n, size=n)]) for _ in range(n_resamples)]
        )
    alpha = (1 - level) / 2
    if np.isnan(stats).all():  # e.g. a correlation on resamples that are all constant
        return float("nan"), float("nan")
    low, high = np.nanquantile(stats, [alpha, 1 - alpha])  # skip undefined resamples
    return float(low), float(high)


def accuracy_with_ci(
    y_true: np.ndarray, y_pred: np.ndarray, *, n_resamples: int = 1000, seed: int = 0
) -> Score:
    """Accuracy (fraction in [0, 1]) of ``y_pred`` ``(n,)`` with a 95% bootstrap interval."""
    correct = (np.asarray(y_true) == np.asarray(y_pred)).astype(np.float64)
    low, high = bootstrap_ci(correct, n_resamples=n_resamples, seed=seed)
    return Score(value=float(correct.mean()), ci_low=low, ci_high=high, n=len(correct))
