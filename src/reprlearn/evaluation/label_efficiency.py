"""Label efficiency: linear-probe accuracy as a function of labelled examples per class.

For each budget b in ``budgets`` (default 1, 2, 5, 10, 20, 50, 100 and ``"all"``) and
each of ``repeats`` seeded draws, b training items per class are drawn without
replacement (all of a class's items when it has fewer), a :class:`LinearProbe` is fit
on them and scored on the fixed test split; the result has the mean and std of the
accuracy per budget. Budgets above the largest class size are skipped when ``"all"`` is
also asked for (they would repeat it), else run on every item; either way, and for a
budget above the smallest class, ``notes`` says in words what was used. ``"all"`` is fit
once (no draw to repeat). Mostly-zero features (TF-IDF) are made CSR once for all
draws (:func:`reprlearn.evaluation.sparsity.sparse_split`). The protocol of
semi-supervised evaluations such as SimCLR's 1%/10% label tables (Chen et al. 2020),
here per class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from reprlearn.evaluation.blas_threads import blas_threads_for
from reprlearn.evaluation.linear_probe import LinearProbe
from reprlearn.evaluation.result import ResultMixin
from reprlearn.evaluation.sparsity import sparse_split
from reprlearn.evaluation.statistics import Score, mean_std

DEFAULT_BUDGETS: tuple[int | str, ...] = (1, 2, 5, 10, 20, 50, 100, "all")


@dataclass
class LabelEfficiencyResult(ResultMixin):
    """Accuracy per budget: ``budgets`` (labels per class, or "all"), ``accuracy`` (Score
    with std over repeats), ``n_train`` (items actually used) and ``repeats``."""

    budgets: list[int | str]
    accuracy: list[Score]
    n_train: list[int]
    repeats: int
    per_repeat: list[list[float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    title = "label efficiency (linear probe)"

    def rows(self) -> list[tuple[str, str]]:
        return [
            (f"{b} per class", str(s)) for b, s in zip(self.budgets, self.accuracy, strict=True)
        ]


def _budget_note(budget: int, counts: np.ndarray, skipped: bool, n_train: int) -> str | None:
    """Words for a budget that some class cannot fill (None when every class can)."""
    smallest, largest = int(counts.min()), int(counts.max())
    if skipped:
        return (
            f"{budget} labels per class: skipped, no class has that many training items "
            f"(largest {largest}); 'all' ({n_train} items) covers it"
        )
    if budget >= largest:
        return (
            f"{budget} labels per class: more than any class has (largest {largest}), so "
            f"all {n_train} training items were used"
        )
    if budget > smallest:
        short = int((counts < budget).sum())
        return (
            f"{budget} labels per class: {short} of {len(counts)} classes have fewer "
            f"(smallest {smallest}) and contribute all their items ({n_train} items in all)"
        )
    return None


def sample_per_class(y: np.ndarray, budget: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``budget`` items per class drawn without replacement (sorted), all items
    of smaller classes."""
    chosen = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        chosen.append(rng.choice(members, size=min(budget, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))


def label_efficiency(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    budgets: Sequence[int | str] = DEFAULT_BUDGETS,
    repeats: int = 5,
    C: float = 1.0,
    seed: int = 0,
    device: str = "auto",
    all_accuracy: float | None = None,
) -> LabelEfficiencyResult:
    """Linear-probe accuracy at each labels-per-class budget (see module doc).

    Args:
        X_train, X_test: ``(n, dim)``; y_train, y_test: ``(n,)``.
        budgets: positive ints and/or ``"all"``. repeats: draws per budget (default 5).
        C: the probe's inverse L2 strength. seed: seeds ``np.random.default_rng``.
        all_accuracy: the test accuracy of a :class:`LinearProbe` with this ``C`` already
            fitted on all of ``X_train`` (``compare``'s linear probe, same split): budget
            ``"all"`` uses it instead of fitting the same model again (default None: fit).

    Returns:
        :class:`LabelEfficiencyResult`; its ``notes`` name budgets that a class could
        not fill (what was used instead) and budgets skipped.

    Raises:
        ValueError: a budget that is neither a positive int nor ``"all"``.
    """
    y_train = np.asarray(y_train)
    X_train, X_test = sparse_split(X_train, X_test)  # TF-IDF: one CSR view for every draw
    counts = np.bincount(np.unique(y_train, return_inverse=True)[1])
    largest = int(counts.max())
    rng = np.random.default_rng(seed)
    result = LabelEfficiencyResult([], [], [], repeats)
    work = max(len(y_train), len(y_test)) * X_train.shape[1] * len(counts)
    with blas_threads_for(work):  # small: one BLAS thread (see there)
        for budget in budgets:
            if budget != "all" and (not isinstance(budget, int | np.integer) or budget < 1):
                raise ValueError(f"budgets must be positive ints or 'all', got {budget!r}")
            if budget != "all" and budget >= largest and "all" in budgets:
                result.notes.append(_budget_note(int(budget), counts, True, len(y_train)))
                continue
            draws = (
                [np.arange(len(y_train))]
                if budget == "all"
                else [sample_per_class(y_train, int(budget), rng) for _ in range(repeats)]
            )
            accs = []
            for idx in draws:
                if len(np.unique(y_train[idx])) < 2:
                    raise ValueError("label efficiency needs at least 2 classes")
                if budget == "all" and all_accuracy is not None:
                    accs.append(float(all_accuracy))
                    continue
                probe = LinearProbe(C=C, device=device).fit(X_train[idx], y_train[idx])
                accs.append(probe.score(X_test, y_test))
            result.budgets.append(budget if budget == "all" else int(budget))
            result.accuracy.append(mean_std(accs))
            result.n_train.append(len(draws[0]))
            result.per_repeat.append([float(a) for a in accs])
            if budget != "all" and (note := _budget_note(int(budget), counts, False, len(idx))):
                result.notes.append(note)
    return result
