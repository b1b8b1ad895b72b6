import numpy as np
import pytest

from reprlearn.errors import DataError, StoreError
from reprlearn.evaluation.linear_probe import LinearProbe
from reprlearn.evaluation.probe import probe


def test_linear_probe_on_a_store_uses_a_stratified_80_20_split(make_store, digits):
    from sklearn.model_selection import train_test_split

    X, y = digits
    store = make_store("s", X, y)
    res = probe(store.path, "linear", seed=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    expected = LinearProbe().fit(Xtr, ytr).score(Xte, yte)
    acc = res.results["linear"].accuracy
    assert acc.value == pytest.approx(expected)
    assert acc.ci_low < acc.value < acc.ci_high
    assert res.split == "stratified 20% holdout" and res.n_classes == 10
    assert res.encoder == "pixels"


def test_all_protocols_with_a_test_store(make_store, digits):
    X, y = digits
    train, test = make_store("train", X[:1400], y[:1400]), make_store("test", X[1400:], y[1400:])
    res = probe(train, "all", test=test, experiments=3)
    assert set(res.results) == {"linear", "knn", "kmeans", "mteb", "logme"}
    assert res.results["linear"].n_test == len(X) - 1400
    assert res.results["knn"].accuracy.value > 0.9
    assert res.results["mteb"].n_experiments == 3 and res.results["mteb"].split == "test store"
    assert np.isfinite(res.results["logme"])
    d = res.to_dict()
    metrics = {(r["protocol"], r["metric"]) for r in d["summary"]}
    assert ("kmeans", "V-measure") in metrics and ("logme", "log evidence / sample") in metrics
    assert res.table().row_count == len(d["summary"])


def test_senteval_protocol_on_a_store(make_store, digits):
    X, y = digits
    keep = np.isin(y, [1, 7])
    store = make_store(
        "b", X[keep] / 16, (y[keep] == 7).astype(np.int64), label_names=["one", "seven"]
    )
    res = probe(store, "senteval", folds=2)
    assert res.results["senteval"].test.value > 0.95 and res.results["senteval"].k == 2


def test_store_without_labels(make_store, digits):
    X, _ = digits
    store = make_store("nolabels", X[:50], None)
    with pytest.raises(DataError, match="no labels.*--label-column"):
        probe(store)


def test_mismatched_stores(make_store, digits):
    X, y = digits
    a = make_store("a", X[:100], y[:100], encoder="pixels")
    b = make_store("b", X[100:200], y[100:200], encoder="pca:32")
    with pytest.raises(StoreError, match=r"'pixels'.*'pca:32'") as e:
        probe(a, test=b)
    assert str(a.path) in str(e.value) and str(b.path) in str(e.value)


def test_unknown_protocol_and_single_class(make_store, digits):
    X, y = digits
    store = make_store("s", X[:100], y[:100])
    with pytest.raises(DataError, match="unknown protocol"):
        probe(store, "svm")
    one = make_store("one", X[:20], np.zeros(20, np.int64), label_names=["a"])
    with pytest.raises(DataError, match="2 or more classes"):
        probe(one)
