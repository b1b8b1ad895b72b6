from collections import Counter

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from reprlearn.evaluation.mteb import holdout_split, mteb_classification, undersample


def test_undersample_keeps_first_items_of_each_label_after_shuffle(digits):
    _, y = digits
    rng = np.random.default_rng(0)
    idxs = np.arange(len(y))
    chosen = undersample(y, 8, idxs, rng)
    assert Counter(y[chosen].tolist()) == {c: 8 for c in range(10)}
    # MTEB's rule: walk the shuffled order, keep an item while its label has < 8
    walk, counts = [], Counter()
    for i in idxs:
        if counts[y[i]] < 8:
            walk.append(i)
            counts[y[i]] += 1
    assert chosen.tolist() == walk


def test_equals_a_direct_loop_with_the_same_seeds(digits):
    X, y = digits
    Xtr, Xte, ytr, yte = holdout_split(X, y, seed=0)
    res = mteb_classification(Xtr, ytr, Xte, yte, n_experiments=4, samples_per_label=8, seed=42)
    rng = np.random.default_rng(42)
    idxs = np.arange(len(ytr))
    accs, f1s = [], []
    for _ in range(4):
        rng.shuffle(idxs)
        counts, chosen = Counter(), []
        for i in idxs:
            if counts[ytr[i]] < 8:
                chosen.append(i)
                counts[ytr[i]] += 1
        pred = (
            LogisticRegression(random_state=42, max_iter=100)
            .fit(Xtr[chosen], ytr[chosen])
            .predict(Xte)
        )
        accs.append(accuracy_score(yte, pred))
        f1s.append(f1_score(yte, pred, average="macro"))
    assert [r["accuracy"] for r in res.per_experiment] == pytest.approx(accs)
    assert res.accuracy.value == pytest.approx(np.mean(accs))
    assert res.accuracy.std == pytest.approx(np.std(accs)) and res.accuracy.std > 0
    assert res.f1.value == pytest.approx(np.mean(f1s))
    assert 0.7 < res.accuracy.value < 0.99  # 8 labels per class: below the full-data probe


def test_holdout_is_stratified(digits):
    X, y = digits
    _, Xte, _, yte = holdout_split(X, y, seed=3)
    assert len(yte) == pytest.approx(0.2 * len(y), abs=1)
    frac = np.bincount(yte) / np.bincount(y)
    assert np.all(np.abs(frac - 0.2) < 0.02)
    with pytest.raises(ValueError):
        mteb_classification(X, y, X, y, n_experiments=0)


def test_holdout_indices_give_holdout_splits_split(digits):
    from reprlearn.evaluation.mteb import holdout_indices

    X, y = digits
    Xtr, Xte, ytr, yte = holdout_split(X, y, seed=3)
    a, b = holdout_indices(y, seed=3)
    assert np.array_equal(X[a], Xtr) and np.array_equal(X[b], Xte)
    assert np.array_equal(y[b], yte) and len(np.intersect1d(a, b)) == 0
