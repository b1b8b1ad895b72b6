import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from reprlearn.evaluation.senteval import INNER_REGS, KFOLD_REGS, senteval_cv, senteval_split


@pytest.fixture(scope="module")
def binary(digits):
    """A two-class task from real digits (3 vs 8), 64-d pixels scaled to [0, 1]."""
    X, y = digits
    keep = np.isin(y, [3, 8])
    return X[keep] / 16.0, (y[keep] == 8).astype(np.int64)


def test_grids_are_sentevals():
    assert INNER_REGS == (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
    assert KFOLD_REGS == (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)


def direct_inner_kfold(X, y, k, regs, seed=1111):
    """The InnerKFoldClassifier loop of SentEval's validation.py, written out."""
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=1111)
    accs, chosen = [], []
    for tr, te in skf.split(X, y):
        scores = []
        for reg in regs:
            inner = StratifiedKFold(n_splits=k, shuffle=True, random_state=1111)
            s = [
                LogisticRegression(C=reg, random_state=seed)
                .fit(X[tr][a], y[tr][a])
                .score(X[tr][b], y[tr][b])
                for a, b in inner.split(X[tr], y[tr])
            ]
            scores.append(np.mean(s))
        best = regs[int(np.argmax(scores))]
        chosen.append(best)
        accs.append(
            LogisticRegression(C=best, random_state=seed).fit(X[tr], y[tr]).score(X[te], y[te])
        )
    return accs, chosen


def test_cv_equals_the_direct_stratified_kfold_loop(binary):
    X, y = binary
    regs = (0.25, 4.0)
    res = senteval_cv(X, y, k=3, regs=regs)
    accs, chosen = direct_inner_kfold(X, y, 3, regs)
    assert res.fold_accuracies == pytest.approx(accs)
    assert res.chosen_C == chosen
    assert res.test.value == pytest.approx(np.mean(accs))
    assert res.test.std == pytest.approx(np.std(accs))
    assert res.test.value > 0.95 and res.k == 3


def test_split_picks_C_by_cv_on_train_then_scores_test(binary):
    X, y = binary
    Xtr, ytr, Xte, yte = X[:250], y[:250], X[250:], y[250:]
    regs = (0.5, 32.0)
    res = senteval_split(Xtr, ytr, Xte, yte, k=3, regs=regs, seed=7)
    skf = StratifiedKFold(3, shuffle=True, random_state=7)
    cv = [
        np.mean(
            [
                LogisticRegression(C=c, random_state=7).fit(Xtr[a], ytr[a]).score(Xtr[b], ytr[b])
                for a, b in skf.split(Xtr, ytr)
            ]
        )
        for c in regs
    ]
    best = regs[int(np.argmax(cv))]
    assert res.chosen_C == [best]
    assert res.dev == pytest.approx(max(cv))
    expected = LogisticRegression(C=best, random_state=7).fit(Xtr, ytr).score(Xte, yte)
    assert res.test.value == pytest.approx(expected) and res.test.std is None


@pytest.fixture(scope="module")
def trec_tfidf(shared_data):
    """Real short texts: 1,200 TREC training questions (6 coarse classes) as TF-IDF CSR
    rows, and their dense float32 copy."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from reprlearn import load_dataset

    ds = load_dataset(str(shared_data / "senteval" / "TREC"), split="train")
    keep = np.random.default_rng(0).choice(len(ds), 1200, replace=False)
    S = TfidfVectorizer(max_features=2048, dtype=np.float32).fit_transform(
        [ds["text"][i] for i in keep]
    )
    return S.tocsr(), S.toarray(), np.asarray(ds["label"])[keep]


def test_scores_do_not_depend_on_the_number_of_worker_processes(binary):
    X, y = binary
    one = senteval_cv(X, y, k=3, regs=(0.25, 4.0), n_jobs=1)
    two = senteval_cv(X, y, k=3, regs=(0.25, 4.0), n_jobs=2)
    assert (one.fold_accuracies, one.chosen_C, one.dev) == (
        two.fold_accuracies,
        two.chosen_C,
        two.dev,
    )


def test_every_fit_runs_blas_on_one_thread(binary, monkeypatch):
    from threadpoolctl import threadpool_info

    from reprlearn.evaluation import senteval

    seen, fit = [], senteval._fit

    def spy(*args, **kwargs):
        seen.append({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
        return fit(*args, **kwargs)

    monkeypatch.setattr(senteval, "_fit", spy)
    X, y = binary
    senteval_split(X[:250], y[:250], X[250:], y[250:], k=3, regs=(0.5, 32.0), n_jobs=1)
    assert len(seen) == 2 * 3 + 1 and all(s == {1} for s in seen)


def test_csr_rows_are_fitted_sparse_with_the_dense_scores(trec_tfidf, monkeypatch):
    from reprlearn.evaluation import senteval

    S, D, y = trec_tfidf
    kinds, fit = [], senteval._fit
    monkeypatch.setattr(senteval, "_fit", lambda X, *a: kinds.append(type(X)) or fit(X, *a))
    sparse = senteval_cv(S, y, k=3, regs=(1.0, 8.0), n_jobs=1)
    dense = senteval_cv(D, y, k=3, regs=(1.0, 8.0), n_jobs=1)
    assert kinds[0] is type(S) and kinds[-1] is np.ndarray
    # the same model up to float32 rounding: each fold's accuracy within one item
    n_fold = len(y) // 3
    assert np.abs(np.subtract(sparse.fold_accuracies, dense.fold_accuracies)).max() <= 1.5 / n_fold
    assert sparse.chosen_C == dense.chosen_C and sparse.test.value > 0.6
