import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from reprlearn.evaluation.label_efficiency import label_efficiency, sample_per_class
from reprlearn.evaluation.linear_probe import LinearProbe


def test_sample_per_class():
    y = np.array([0] * 10 + [1] * 3 + [2] * 7)
    idx = sample_per_class(y, 5, np.random.default_rng(0))
    assert np.bincount(y[idx]).tolist() == [5, 3, 5]
    assert len(set(idx.tolist())) == len(idx)


def test_accuracy_grows_with_labels_on_digits(digits):
    X, y = digits
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    res = label_efficiency(Xtr, ytr, Xte, yte, budgets=(1, 5, 20, 500, "all"), repeats=3, seed=0)
    assert res.budgets == [1, 5, 20, "all"]  # 500 > largest class: same as "all", skipped
    acc = [s.value for s in res.accuracy]
    assert acc[0] < acc[1] < acc[2] <= acc[3] + 0.01
    assert res.n_train[:3] == [10, 50, 200] and res.n_train[3] == len(ytr)
    assert res.accuracy[0].std > 0 and res.accuracy[-1].std == 0
    full = LinearProbe().fit(Xtr, ytr).score(Xte, yte)
    assert acc[-1] == pytest.approx(full)
    again = label_efficiency(Xtr, ytr, Xte, yte, budgets=(1, 5), repeats=3, seed=0)
    assert again.per_repeat == res.per_repeat[:2]
    assert res.to_dict()["budgets"] == [1, 5, 20, "all"]
    with pytest.raises(ValueError, match="positive"):
        label_efficiency(Xtr, ytr, Xte, yte, budgets=(0,))


def test_budget_above_every_class_says_what_was_used(digits):
    """Issue 14: `--label-efficiency 1000` was labelled "1000/class" while using all rows."""
    X, y = digits
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    res = label_efficiency(Xtr, ytr, Xte, yte, budgets=(1000,), repeats=2)
    assert res.n_train == [len(ytr)]
    assert res.notes == [
        f"1000 labels per class: more than any class has (largest {np.bincount(ytr).max()}), "
        f"so all {len(ytr)} training items were used"
    ]
    skipped = label_efficiency(Xtr, ytr, Xte, yte, budgets=(1000, "all"), repeats=2)
    assert skipped.budgets == ["all"] and "skipped" in skipped.notes[0]
    uneven = np.concatenate([np.flatnonzero(ytr != 0), np.flatnonzero(ytr == 0)[:3]])
    part = label_efficiency(Xtr[uneven], ytr[uneven], Xte, yte, budgets=(5,), repeats=1)
    assert part.notes == [
        "5 labels per class: 1 of 10 classes have fewer (smallest 3) and contribute all "
        "their items (48 items in all)"
    ]
    assert res.to_dict()["notes"] == res.notes
