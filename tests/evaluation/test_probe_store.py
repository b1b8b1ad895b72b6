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


def test_k_above_the_training_items_and_bad_numbers_fail_before_work(make_store, digits):
    X, y = digits
    store = make_store("s", X[:200], y[:200])
    with pytest.raises(DataError, match=r"--k 100000 is more than the 160 training items"):
        probe(store, "knn", k=100000)
    with pytest.raises(DataError, match=r"--C -1"):
        probe(store, "linear", C=-1)
    with pytest.raises(DataError, match=r"--folds 1"):
        probe(store, "senteval", folds=1)


def test_several_protocols_as_a_comma_list_with_seconds(make_store, digits):
    X, y = digits
    res = probe(make_store("s", X, y), "linear, knn")
    assert list(res.results) == ["linear", "knn"] and set(res.seconds) == {"linear", "knn"}
    assert all(s > 0 for s in res.seconds.values())
    assert len(res.test_ids) == res.results["linear"].n_test == len(res.results["linear"].correct)


def test_kmeans_and_logme_are_measured_on_the_test_store(make_store, digits):
    """Issue 15 item 5: with --test, k-means and LogME describe the test store, and say so."""
    from reprlearn.evaluation.clustering import kmeans_clustering
    from reprlearn.evaluation.logme import logme

    X, y = digits
    train, test = make_store("train", X[:1400], y[:1400]), make_store("test", X[1400:], y[1400:])
    res = probe(train, "kmeans,logme", test=test)
    expected = kmeans_clustering(X[1400:], y[1400:], seed=0).nmi.value
    assert res.results["kmeans"].nmi.value == pytest.approx(expected)
    assert res.results["logme"] == pytest.approx(logme(X[1400:], y[1400:]))
    assert res.measured_on["kmeans"] == "all items of the test store"
    assert "label-free" in " ".join(res.notes) and "test store" in str(res)


def test_print_gives_a_plain_text_table(make_store, digits):
    X, y = digits
    text = str(probe(make_store("s", X, y), "linear"))
    assert "probe: pixels" in text and "accuracy" in text and "Table object" not in text
    assert "\x1b[" not in text  # no terminal colour codes


def test_stores_fitted_separately_are_refused(tmp_path):
    """Issue 15 item 1: two `embed` runs of pca:8 fit two PCA bases: different spaces."""
    from reprlearn.data import load_dataset
    from reprlearn.embed import embed

    ds = load_dataset("digits")
    a = embed(ds.select(range(0, 900)), "pca:8", tmp_path / "a", progress=False)
    b = embed(ds.select(range(900, 1797)), "pca:8", tmp_path / "b", progress=False)
    with pytest.raises(StoreError, match="different (embedding )?spaces") as e:
        probe(a, test=b)
    assert "--fitted-from" in str(e.value)
