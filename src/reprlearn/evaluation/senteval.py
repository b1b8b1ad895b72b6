"""The SentEval classification protocol (Conneau & Kiela 2018, "SentEval: An Evaluation
Toolkit for Universal Sentence Representations").

Follows facebookresearch/SentEval ``senteval/tools/validation.py`` with
``usepytorch=False`` (scikit-learn logistic regression):

* no fixed split (MR, CR, SUBJ, MPQA): ``InnerKFoldClassifier``: an outer
  ``StratifiedKFold(k, shuffle=True, random_state=1111)``; inside each training part an
  inner ``StratifiedKFold`` with the same settings picks ``C`` from
  ``[2^-2, ..., 2^3]`` (the code's ``range(-2, 4)``) by mean inner accuracy; a model with
  that ``C`` is refit on the training part and scored on the held-out fold. Reported:
  mean (and std) of the fold accuracies. SentEval's benchmark runs use ``kfold=10``.
* a separate test set (TREC; SentEval's SST2 has a dev set instead):
  ``KFoldClassifier``: ``C`` from ``[2^-1, ..., 2^5]`` by k-fold CV on train
  (``random_state=seed``), refit on all of train, scored on test.

Differences: the classifier is today's ``LogisticRegression(C=C, random_state=seed)``
(lbfgs, ``max_iter`` 100 by default as there; SentEval ran with the liblinear default of
old scikit-learn); accuracies are kept as fractions in [0, 1], not rounded percentages.

Speed (issue 16): the protocol's 610 (or 71) fits are independent, so they run in
``n_jobs`` worker processes (joblib's loky, which hands them the rows memory-mapped), and
each fit runs its BLAS calls on one thread (threadpoolctl). Before, one fit at a time ran
with OpenBLAS splitting each small product over every core, which made a fit slower, not
faster: one fit on 8,100 x 384 MiniLM rows (54 classes) took 3.9 s on 2 threads and
1.75 s on 1. The scores now do not depend on the machine's core count or ``n_jobs``
(before, the BLAS thread count changed the rounding, and so a fit that stops at
``max_iter`` could stop elsewhere). CSR rows (TF-IDF) are fitted sparse, as scikit-learn
allows: the same model up to rounding, one fit 10.3 -> 1.8 s on 8,100 x 4,096 TF-IDF rows.
Measured by ``benchmarks/senteval_speed.py``: see ``docs/speed.md``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, cpu_count, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from reprlearn.evaluation.result import ResultMixin, fmt
from reprlearn.evaluation.statistics import Score, mean_std

INNER_REGS = tuple(2.0**t for t in range(-2, 4))  # InnerKFoldClassifier
KFOLD_REGS = tuple(2.0**t for t in range(-1, 6))  # KFoldClassifier
FOLD_SEED = 1111  # InnerKFoldClassifier's fixed random_state
MAX_JOBS = 8  # default cap on worker processes (each copies its fold's training rows)


@dataclass
class SentEvalResult(ResultMixin):
    """SentEval accuracy (fractions): ``test`` = mean ± std over outer folds (or the
    held-out test score), ``dev`` = mean of the best inner-CV accuracies, and per-fold detail."""

    test: Score
    dev: float
    chosen_C: list[float]
    fold_accuracies: list[float] = field(default_factory=list)
    k: int = 10
    title = "SentEval logistic regression"

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("test accuracy", str(self.test)),
            ("dev accuracy", fmt(self.dev)),
            ("folds", str(self.k)),
            ("C chosen", ", ".join(fmt(c) for c in self.chosen_C)),
        ]


def _fit(X, y, C: float, seed: int, max_iter: int) -> LogisticRegression:
    """``LogisticRegression(C=C, random_state=seed)`` fit on ``X, y``; the protocol fixes
    ``max_iter``, so its ConvergenceWarnings are silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(C=C, random_state=seed, max_iter=max_iter).fit(X, y)


def _fit_score(X, y, train, test, C: float, seed: int, max_iter: int) -> float:
    """Accuracy on rows ``test`` of the fit on rows ``train`` (:func:`_train_test`)."""
    return _train_test(X[train], y[train], X[test], y[test], C, seed, max_iter)


def _train_test(X_train, y_train, X_test, y_test, C: float, seed: int, max_iter: int) -> float:
    """Test accuracy of :func:`_fit` on the train rows, every BLAS call on one thread
    (threadpoolctl: per process, and a loky worker runs one task at a time)."""
    with threadpool_limits(1, user_api="blas"):
        return float(_fit(X_train, y_train, C, seed, max_iter).score(X_test, y_test))


def _scores(X, y, tasks, seed: int, max_iter: int, n_jobs: int | None) -> list[float]:
    """Test accuracy of each ``(train rows, test rows, C)`` task, fitted in ``n_jobs``
    processes (joblib's loky; large arrays reach them memory-mapped): see the module doc.
    The same numbers for any ``n_jobs``."""
    return Parallel(n_jobs=n_jobs or min(cpu_count(), MAX_JOBS))(
        delayed(_fit_score)(X, y, tr, te, C, seed, max_iter) for tr, te, C in tasks
    )


def _folds(y: np.ndarray, rows: np.ndarray, k: int, fold_seed: int) -> list:
    """SentEval's ``StratifiedKFold(k, shuffle=True)`` of ``rows`` (indices into ``y``),
    as ``(train, test)`` index arrays into the whole ``y``."""
    skf = StratifiedKFold(k, shuffle=True, random_state=fold_seed)
    return [(rows[a], rows[b]) for a, b in skf.split(rows, y[rows])]


def _pick_C(X, y, rows_sets, regs, k, fold_seed, seed, max_iter, n_jobs):
    """For each set of ``rows``: the best ``C`` by mean k-fold accuracy (first best on
    ties, as ``np.argmax``) and that accuracy; all sets' fits in one parallel batch."""
    folds = [_folds(y, rows, k, fold_seed) for rows in rows_sets]
    tasks = [(a, b, C) for sets in folds for C in regs for a, b in sets]
    acc = np.array(_scores(X, y, tasks, seed, max_iter, n_jobs))
    mean = acc.reshape(len(rows_sets), len(regs), k).mean(axis=2)
    best = mean.argmax(axis=1)
    return [regs[i] for i in best], [float(mean[j, i]) for j, i in enumerate(best)]


def senteval_cv(
    X: np.ndarray,
    y: np.ndarray,
    *,
    k: int = 10,
    inner_k: int | None = None,
    regs: tuple[float, ...] = INNER_REGS,
    seed: int = 1111,
    max_iter: int = 100,
    n_jobs: int | None = None,
) -> SentEvalResult:
    """SentEval's ``InnerKFoldClassifier`` on ``X`` ``(n, dim)``, ``y`` ``(n,)`` (MR/CR/SUBJ/MPQA).

    Args:
        k: outer folds (SentEval benchmark: 10). inner_k: inner folds (default ``k``).
        regs: the ``C`` grid. seed: ``LogisticRegression``'s ``random_state`` (the folds
            use SentEval's fixed 1111). max_iter: LogisticRegression iterations.
        n_jobs: worker processes for the fits (joblib; default one per core, at most
            :data:`MAX_JOBS`: each worker holds a copy of its training rows; the
            environment variable ``LOKY_MAX_CPU_COUNT`` lowers the core count joblib
            sees). The scores do not depend on it.

    Raises:
        ValueError: a class with fewer than ``k`` items.
    """
    X, y = _rows(X), np.asarray(y)
    inner_k = inner_k or k
    outer = _folds(y, np.arange(len(y)), k, FOLD_SEED)
    chosen, devs = _pick_C(X, y, [tr for tr, _ in outer], regs, inner_k, FOLD_SEED, seed,
                           max_iter, n_jobs)  # fmt: skip
    tasks = [(tr, te, C) for (tr, te), C in zip(outer, chosen, strict=True)]
    accs = _scores(X, y, tasks, seed, max_iter, n_jobs)
    return SentEvalResult(mean_std(accs), float(np.mean(devs)), chosen, accs, k)


def senteval_split(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    k: int = 10,
    regs: tuple[float, ...] = KFOLD_REGS,
    seed: int = 1111,
    max_iter: int = 100,
    n_jobs: int | None = None,
) -> SentEvalResult:
    """SentEval's ``KFoldClassifier``: pick ``C`` by k-fold CV on train (folds seeded with
    ``seed``), refit on all of train, score on test (TREC). ``test`` carries no std (one
    score); see :func:`senteval_cv` for the arguments."""
    X_train, y_train = _rows(X_train), np.asarray(y_train)
    (C,), (dev,) = _pick_C(X_train, y_train, [np.arange(len(y_train))], regs, k, seed, seed,
                           max_iter, n_jobs)  # fmt: skip
    acc = _train_test(X_train, y_train, _rows(X_test), y_test, C, seed, max_iter)
    return SentEvalResult(Score(value=acc, n=len(y_test)), dev, [C], [acc], k)


def _rows(X):
    """CSR rows as they are (scikit-learn fits them sparse), anything else as an array."""
    return X if sp.issparse(X) else np.asarray(X)
