import importlib.util

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from reprlearn.evaluation.knn import KNNProbe, cosine_topk, knn_probe


def dino_reference(Xtr, ytr, Xte, k, T, n_classes):
    """Brute-force numpy version of DINO's knn_classifier."""
    a = Xtr / np.linalg.norm(Xtr, axis=1, keepdims=True)
    b = Xte / np.linalg.norm(Xte, axis=1, keepdims=True)
    sims = b.astype(np.float64) @ a.T.astype(np.float64)
    preds = []
    for row in sims:
        top = np.argsort(-row)[:k]
        votes = np.zeros(n_classes)
        for j in top:
            votes[ytr[j]] += np.exp(row[j] / T)
        preds.append(votes.argmax())
    return np.array(preds)


@pytest.fixture(scope="module")
def split(digits):
    X, y = digits
    return train_test_split(X, y, test_size=0.25, random_state=1, stratify=y)


backends = ["torch"] + (["faiss"] if importlib.util.find_spec("faiss") else [])


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("k", [1, 20, 200])
def test_equals_brute_force_dino_reference(split, backend, k):
    Xtr, Xte, ytr, yte = split
    ref = dino_reference(Xtr, ytr, Xte, k, 0.07, 10)
    pred = KNNProbe(k=k, backend=backend, device="cpu").fit(Xtr, ytr).predict(Xte)
    assert (pred == ref).mean() >= 0.995  # float32 vs float64 ties at the k-th neighbour


def test_chunking_does_not_change_neighbours(split):
    Xtr, Xte, _, _ = split
    s1, i1 = cosine_topk(Xte, Xtr, 5, backend="torch", chunk_size=7)
    s2, i2 = cosine_topk(Xte, Xtr, 5, backend="torch", chunk_size=10_000)
    np.testing.assert_allclose(s1, s2, atol=1e-6)
    assert (i1 == i2).mean() > 0.99
    assert np.all(np.diff(s1, axis=1) <= 1e-6)  # most similar first


def test_exclude_self(digits):
    X, _ = digits
    X = X[:300] + np.random.default_rng(0).normal(scale=1e-3, size=(300, 64)).astype(np.float32)
    _, idx = cosine_topk(X, X, 3, exclude_self=True)
    assert idx.shape == (300, 3)
    assert not (idx == np.arange(300)[:, None]).any()


def test_knn_probe_result(split):
    Xtr, Xte, ytr, yte = split
    res = knn_probe(Xtr, ytr, Xte, yte)
    assert res.accuracy.value > 0.95 and res.k == 20 and res.temperature == 0.07
    assert res.to_dict()["n_test"] == len(yte)


def test_bad_arguments(split):
    Xtr, Xte, _, _ = split
    with pytest.raises(ValueError, match="unknown kNN backend"):
        cosine_topk(Xte, Xtr, 3, backend="annoy")
    with pytest.raises(ValueError, match="k="):
        cosine_topk(Xte, Xtr[:5], 6)
