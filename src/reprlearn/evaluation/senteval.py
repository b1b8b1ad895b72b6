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
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from reprlearn.evaluation.result import ResultMixin, fmt
from reprlearn.evaluation.statistics import Score, mean_std

INNER_REGS = tuple(2.0**t for t in range(-2, 4))  # InnerKFoldClassifier
KFOLD_REGS = tuple(2.0**t for t in range(-1, 6))  # KFoldClassifier
FOLD_SEED = 1111  # InnerKFoldClassifier's fixed random_state


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


def _cv_accuracy(X, y, C, folds, seed, max_iter) -> float:
    scores = []
    for tr, te in folds:
        clf = _fit(X[tr], y[tr], C, seed, max_iter)
        scores.append(clf.score(X[te], y[te]))
    return float(np.mean(scores))


def _pick_C(X, y, regs, k, fold_seed, seed, max_iter) -> tuple[float, float]:
    """Best ``C`` by mean k-fold accuracy (first best on ties, as ``np.argmax``)."""
    folds = list(StratifiedKFold(k, shuffle=True, random_state=fold_seed).split(X, y))
    scores = [_cv_accuracy(X, y, C, folds, seed, max_iter) for C in regs]
    best = int(np.argmax(scores))
    return regs[best], scores[best]


def senteval_cv(
    X: np.ndarray,
    y: np.ndarray,
    *,
    k: int = 10,
    inner_k: int | None = None,
    regs: tuple[float, ...] = INNER_REGS,
    seed: int = 1111,
    max_iter: int = 100,
) -> SentEvalResult:
    """SentEval's ``InnerKFoldClassifier`` on ``X`` ``(n, dim)``, ``y`` ``(n,)`` (MR/CR/SUBJ/MPQA).

    Args:
        k: outer folds (SentEval benchmark: 10). inner_k: inner folds (default ``k``).
        regs: the ``C`` grid. seed: ``LogisticRegression``'s ``random_state`` (the folds
            use SentEval's fixed 1111). max_iter: LogisticRegression iterations.

    Raises:
        ValueError: a class with fewer than ``k`` items.
    """
    X, y = np.asarray(X), np.asarray(y)
    inner_k = inner_k or k
    outer = StratifiedKFold(k, shuffle=True, random_state=FOLD_SEED)
    accs, devs, chosen = [], [], []
    for tr, te in outer.split(X, y):
        C, dev = _pick_C(X[tr], y[tr], regs, inner_k, FOLD_SEED, seed, max_iter)
        clf = _fit(X[tr], y[tr], C, seed, max_iter)
        accs.append(clf.score(X[te], y[te]))
        devs.append(dev)
        chosen.append(C)
    return SentEvalResult(mean_std(accs), float(np.mean(devs)), chosen, [float(a) for a in accs], k)


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
) -> SentEvalResult:
    """SentEval's ``KFoldClassifier``: pick ``C`` by k-fold CV on train (folds seeded with
    ``seed``), refit on all of train, score on test (TREC). ``test`` carries no std (one
    score); see :func:`senteval_cv` for the arguments."""
    C, dev = _pick_C(np.asarray(X_train), np.asarray(y_train), regs, k, seed, seed, max_iter)
    clf = _fit(X_train, y_train, C, seed, max_iter)
    acc = float(clf.score(X_test, y_test))
    return SentEvalResult(Score(value=acc, n=len(y_test)), dev, [C], [acc], k)
