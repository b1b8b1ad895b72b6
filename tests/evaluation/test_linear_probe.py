import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from reprlearn.evaluation.linear_probe import LinearProbe, confusion_matrix_png, linear_probe


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.mark.parametrize("C", [0.01, 1.0])
def test_matches_sklearn_logistic_regression(split, C):
    Xtr, Xte, ytr, yte = split
    ours = LinearProbe(C=C, device="cpu").fit(Xtr, ytr)
    scaler = StandardScaler().fit(Xtr)
    ref = LogisticRegression(C=C, max_iter=2000, tol=1e-6).fit(scaler.transform(Xtr), ytr)
    acc_ours, acc_ref = ours.score(Xte, yte), ref.score(scaler.transform(Xte), yte)
    assert abs(acc_ours - acc_ref) <= 0.005
    # same objective -> same optimum (sklearn's coef up to convergence tolerance)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=0.05 * np.abs(ref.coef_).max())
    agree = (ours.predict(Xte) == ref.predict(scaler.transform(Xte))).mean()
    assert agree > 0.99


def test_estimator_contract_with_arbitrary_labels(split):
    Xtr, Xte, ytr, yte = split
    probe = LinearProbe(C=0.5)
    assert probe.C == 0.5 and not hasattr(probe, "coef_")
    assert probe.fit(Xtr, ytr * 3 + 7) is probe
    np.testing.assert_array_equal(probe.classes_, np.arange(10) * 3 + 7)
    assert set(np.unique(probe.predict(Xte))) <= set(probe.classes_)
    proba = probe.predict_proba(Xte)
    assert proba.shape == (len(Xte), 10)
    np.testing.assert_allclose(proba.sum(1), 1, atol=1e-5)
    assert probe.score(Xte, yte * 3 + 7) > 0.93


def test_bad_input():
    X = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match="2 classes"):
        LinearProbe().fit(X, np.zeros(4))
    with pytest.raises(ValueError, match="must be"):
        LinearProbe().fit(X, np.zeros(3))
    with pytest.raises(ValueError, match="C must be"):
        LinearProbe(C=0).fit(X, np.array([0, 1, 0, 1]))


def test_linear_probe_result_and_confusion_png(split, tmp_path):
    Xtr, Xte, ytr, yte = split
    res = linear_probe(Xtr, ytr, Xte, yte, confusion=True)
    assert res.accuracy.value > 0.93
    assert res.accuracy.ci_low < res.accuracy.value < res.accuracy.ci_high
    assert res.confusion.shape == (10, 10) and res.confusion.sum() == len(yte)
    assert np.trace(res.confusion) / len(yte) == pytest.approx(res.accuracy.value)
    assert 0.9 < res.macro_f1 <= 1
    d = res.to_dict()
    assert d["accuracy"]["value"] == res.accuracy.value and len(d["confusion"]) == 10
    assert res.table().row_count == 5
    png = confusion_matrix_png(res.confusion, [f"digit {i}" for i in range(10)], tmp_path / "c.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
