"""The MTEB classification protocol (Muennighoff et al. 2023, "MTEB: Massive Text
Embedding Benchmark").

Follows embeddings-benchmark/mteb ``mteb/abstasks/AbsTaskClassification.py``
(``_evaluate_subset``, ``_undersample_data``) and ``logRegClassificationEvaluator``: for
each of ``n_experiments`` (10) experiments the train split's indices are shuffled again
(one index array, reshuffled in place each time, as MTEB keeps ``idxs`` between
experiments) and the first ``samples_per_label`` (8) items of each label in that order
are kept; ``LogisticRegression(random_state=seed, max_iter=100)`` is fit on them and
scored on the whole test split (accuracy, macro-F1). Reported: mean and std over the
experiments. MTEB shuffles with the global ``np.random`` seeded 42; here a
``np.random.default_rng(seed)`` (default 42) does it, so results do not depend on
global state.

Each fit is small (``classes x 8`` rows), so it runs with one BLAS thread
(``threadpoolctl``): OpenBLAS splits even these small products over every core, and on 2
cores with anything else running its threads wait for each other. Measured on the
10k-text, 54-class set of ``benchmarks/compare_stages.py`` (MiniLM, 384-d): 2.3-3.4 s
with the default threads, 0.23-0.28 s with one; the same fits, the same scores.

Without a separate test split, :func:`holdout_split` holds out a seeded, stratified
20% as test (documented in the result as ``split="holdout-20%"``).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from reprlearn.evaluation.result import ResultMixin
from reprlearn.evaluation.sparsity import sparse_split, used_columns
from reprlearn.evaluation.statistics import Score, mean_std


@dataclass
class MTEBResult(ResultMixin):
    """MTEB classification: accuracy and macro-F1 (fractions), mean ± std over experiments."""

    accuracy: Score
    f1: Score
    n_experiments: int
    samples_per_label: int
    split: str = "given"
    per_experiment: list[dict[str, float]] = field(default_factory=list)
    title = "MTEB classification"

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("accuracy", str(self.accuracy)),
            ("macro-F1", str(self.f1)),
            ("experiments", str(self.n_experiments)),
            ("samples per label", str(self.samples_per_label)),
            ("test split", self.split),
        ]


def undersample(
    y: np.ndarray, samples_per_label: int, idxs: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """MTEB's ``_undersample_data``: shuffle ``idxs`` in place with ``rng``, return the
    first ``samples_per_label`` indices of each label in that order (``(<= k*spl,)``)."""
    rng.shuffle(idxs)
    counter: dict[int, int] = defaultdict(int)
    chosen = []
    for i in idxs:
        if counter[y[i]] < samples_per_label:
            chosen.append(i)
            counter[y[i]] += 1
    return np.asarray(chosen, dtype=np.int64)


def holdout_split(
    X: np.ndarray, y: np.ndarray, *, test_size: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeded stratified split ``(X_train, X_test, y_train, y_test)`` (``test_size`` 0.2)."""
    return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)


def holdout_indices(
    y: np.ndarray, *, test_size: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train (n_train,), test (n_test,))`` of :func:`holdout_split`'s split:
    ``X[train], X[test]`` equal its ``X_train, X_test`` for the same ``y`` and ``seed``."""
    rows = np.arange(len(y))
    train, test = train_test_split(rows, test_size=test_size, random_state=seed, stratify=y)
    return train, test


def _experiment(X, y, X_test, y_test, seed: int, max_iter: int) -> dict[str, float]:
    """One MTEB experiment: fit ``LogisticRegression`` on ``(X, y)``, score the test split.
    CSR rows (TF-IDF) are fit on the columns that have a non-zero in ``X`` only: the
    weights of the others get zero gradient from the zero start, so L-BFGS never moves
    them and the fit, the predictions and the scores are the same with fewer parameters
    (about half of a 4,096-d TF-IDF vocabulary is absent from 432 rows)."""
    if sp.issparse(X):
        used = used_columns(X)
        X, X_test = X[:, used], X_test[:, used]
    clf = LogisticRegression(random_state=seed, max_iter=max_iter)
    with warnings.catch_warnings():  # max_iter is the protocol's: silence its warnings
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    pred = clf.predict(X_test)
    return {
        "accuracy": float(accuracy_score(y_test, pred)),
        "f1": float(f1_score(y_test, pred, average="macro")),
    }


def mteb_classification(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    n_experiments: int = 10,
    samples_per_label: int = 8,
    seed: int = 42,
    max_iter: int = 100,
    split: str = "given",
) -> MTEBResult:
    """Run the MTEB classification protocol (see module doc).

    Args:
        X_train, X_test: ``(n, dim)``; y_train, y_test: ``(n,)`` int labels.
        n_experiments: undersampled experiments (10). samples_per_label: train items per label (8).
        seed: seeds the shuffling rng and ``LogisticRegression(random_state=seed)`` (MTEB: 42).
        max_iter: LogisticRegression iterations (MTEB: 100). split: recorded in the result.

    Raises:
        ValueError: ``n_experiments < 1``.
    """
    if n_experiments < 1:
        raise ValueError("n_experiments must be >= 1")
    y_train = np.asarray(y_train)
    rng = np.random.default_rng(seed)
    idxs = np.arange(len(y_train))
    runs = []
    # mostly-zero rows (TF-IDF): sklearn's lbfgs on CSR, the same fit for nnz x k a step
    X_train, X_test = sparse_split(X_train, X_test)
    with threadpool_limits(1, user_api="blas"):  # small fits: see the module doc
        for _ in range(n_experiments):
            chosen = undersample(y_train, samples_per_label, idxs, rng)
            runs.append(_experiment(X_train[chosen], y_train[chosen], X_test, y_test, seed,
                                    max_iter))  # fmt: skip
    return MTEBResult(
        accuracy=mean_std([r["accuracy"] for r in runs]),
        f1=mean_std([r["f1"] for r in runs]),
        n_experiments=n_experiments,
        samples_per_label=samples_per_label,
        split=split,
        per_experiment=runs,
    )
