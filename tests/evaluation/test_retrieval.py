import numpy as np
import pytest

from reprlearn.evaluation.retrieval import retrieval_scores


def brute_force(X, y, k):
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    sims = Xn.astype(np.float64) @ Xn.T.astype(np.float64)
    np.fill_diagonal(sims, -np.inf)
    recalls, aps = [], []
    for i in range(len(X)):
        R = (y == y[i]).sum() - 1
        if R == 0:
            continue
        order = np.argsort(-sims[i])[:k]
        rel = y[order] == y[i]
        recalls.append(rel.any())
        hits = np.cumsum(rel)
        aps.append(sum(hits[j] / (j + 1) for j in range(k) if rel[j]) / min(k, R))
    return np.mean(recalls), np.mean(aps)


def test_equals_brute_force(digits):
    X, y = digits
    X, y = X[:500], y[:500].copy()
    y[0] = 99  # a singleton label: skipped as a query
    res = retrieval_scores(X, y, ks=(1, 5, 10), backend="torch")
    assert res.n_queries == 499
    for k in (1, 5, 10):
        r, m = brute_force(X, y, k)
        assert res.recall_at[k] == pytest.approx(r, abs=0.005)
        assert res.map_at[k] == pytest.approx(m, abs=0.005)
    assert res.recall_at[1] == pytest.approx(res.map_at[1])
    assert res.recall_at[1] > 0.9
    assert res.table().row_count == 7


def test_random_features_score_at_chance():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 32)).astype(np.float32)
    y = rng.integers(0, 4, size=1000)
    res = retrieval_scores(X, y, ks=(1,))
    assert res.recall_at[1] == pytest.approx(0.25, abs=0.05)
