"""The splits of a fine-tuning run: test (held out or given), validation, few-shot train.

* test: a stratified 20% holdout of the source (seeded, as ``probe``/``compare``), or all
  of ``--test SOURCE``;
* validation: a stratified ``val_split`` share of the rest (for early stopping and the
  best checkpoint); none when a class would get no item (tiny few-shot budgets);
* ``labels_per_class N``: N training items per class, drawn (seeded) from the rest; the
  test split stays the same for every budget, so budgets compare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from reprlearn.errors import DataError


@dataclass
class Splits:
    """Row indices ``(n,)`` into the source (test: into the test source when one is given)."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def _stratified(idx: np.ndarray, y: np.ndarray, size: float, seed: int):
    counts = np.bincount(y[idx])
    if size <= 0 or (counts[counts > 0] * size < 1).any() or (counts[counts > 0] < 2).any():
        return idx, idx[:0]
    rest, held = train_test_split(idx, test_size=size, random_state=seed, stratify=y[idx])
    return np.sort(rest), np.sort(held)


def make_splits(
    y: np.ndarray,
    *,
    test_given: bool = False,
    test_size: float = 0.2,
    val_split: float = 0.1,
    labels_per_class: int | None = None,
    seed: int = 0,
) -> Splits:
    """Seeded stratified splits of labels ``y`` ``(n,)`` (see the module doc).

    Raises:
        DataError: a class with fewer training items than ``labels_per_class``.
    """
    y = np.asarray(y)
    idx = np.arange(len(y))
    if test_given:
        pool, test = idx, np.arange(0)
    else:
        pool, test = _stratified(idx, y, test_size, seed)
    if labels_per_class is not None:
        rng = np.random.default_rng(seed)
        chosen = []
        for c in np.unique(y[pool]):
            members = pool[y[pool] == c]
            if len(members) < labels_per_class:
                raise DataError(
                    f"--labels-per-class {labels_per_class}: class {c} has only "
                    f"{len(members)} training items; choose a smaller budget"
                )
            chosen.append(rng.choice(members, labels_per_class, replace=False))
        pool = np.sort(np.concatenate(chosen))
    train, val = _stratified(pool, y, val_split, seed)
    return Splits(train, val, test)
