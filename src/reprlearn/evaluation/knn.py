"""The kNN probe of DINO: cosine similarity, k nearest training items, votes weighted by
``exp(similarity / T)``.

Source: facebookresearch/dino ``eval_knn.py`` ``knn_classifier`` (Caron et al. 2021,
"Emerging Properties in Self-Supervised Vision Transformers"): features are
L2-normalised, similarities are dot products, the top-``k`` (default 20) neighbours
vote for their class with weight ``exp(sim / T)`` (T = 0.07), the class with the largest
summed weight wins. DINO uses k=20 for its ImageNet table; SSL benchmarks also use k=200.

Backends: ``"torch"`` (chunked ``matmul`` + ``topk`` on the chosen device) and ``"faiss"``
(exact inner-product search, ``faiss.IndexFlatIP``, CPU) when ``faiss`` is importable;
``"auto"`` picks faiss on CPU when installed, torch otherwise; on the CPU, mostly-zero
rows (TF-IDF, see :mod:`reprlearn.evaluation.sparsity`) take a sparse-dense product
(``nnz x n`` work instead of ``m x dim x n``) and ``torch.topk``: the same neighbours.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.metrics import f1_score

from reprlearn.device import resolve_device
from reprlearn.evaluation.result import ResultMixin, fmt
from reprlearn.evaluation.sparsity import dense, sparse_cosine_topk, sparse_view
from reprlearn.evaluation.statistics import Score, accuracy_with_ci

BACKENDS = ("auto", "torch", "faiss")


def l2_normalize(X: np.ndarray | sp.spmatrix) -> np.ndarray | sp.csr_matrix:
    """Rows scaled to unit L2 norm (zero rows stay zero); float32 ``(n, dim)``, or a float32
    CSR matrix for a scipy sparse ``X`` with the values the dense rows would give: each
    norm is taken on a dense copy of a block of rows (1,024 at a time), so its float32 sum
    rounds as the dense path's does and k-means on the result clusters alike."""
    if sp.issparse(X):
        return _l2_normalize_sparse(X)
    X = np.asarray(X, dtype=np.float32)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.maximum(norms, 1e-12)


def _l2_normalize_sparse(X: sp.spmatrix, block: int = 1_024) -> sp.csr_matrix:
    S = sp.csr_matrix(X, dtype=np.float32)
    norms = [
        np.linalg.norm(S[i : i + block].toarray(), axis=1) for i in range(0, S.shape[0], block)
    ]
    scale = np.maximum(np.concatenate(norms) if norms else np.zeros(0, np.float32), 1e-12)
    out = S.copy()
    out.data = S.data / np.repeat(scale, np.diff(S.indptr))
    return out


def cosine_topk(
    queries: np.ndarray,
    keys: np.ndarray,
    k: int,
    *,
    backend: str = "auto",
    device: str = "auto",
    chunk_size: int = 1024,
    exclude_self: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` keys most cosine-similar to each query.

    Args:
        queries: ``(m, dim)``; keys: ``(n, dim)`` (both normalised here).
        k: neighbours per query (``k <= n``, ``k < n`` with ``exclude_self``).
        backend: ``"auto"``, ``"torch"`` or ``"faiss"``. device: torch device for ``"torch"``.
        chunk_size: queries per matmul chunk (bounds memory at ``chunk_size * n`` floats).
        exclude_self: queries are the keys themselves; drop each item's own match.

    Returns:
        ``(similarities float32 (m, k), indices int64 (m, k))``, most similar first.

    Raises:
        ValueError: unknown backend, or ``k`` too large.
        ImportError: ``backend="faiss"`` without faiss installed.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown kNN backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    n = keys.shape[0]
    extra = 1 if exclude_self else 0
    if not 1 <= k <= n - extra:
        raise ValueError(f"k={k} must be between 1 and the number of reference items ({n - extra})")
    dev = resolve_device(device)
    has_faiss = importlib.util.find_spec("faiss") is not None
    if backend == "faiss" and not has_faiss:
        raise ImportError("backend='faiss' needs faiss: pip install faiss-cpu")
    Ks = sparse_view(keys) if backend == "auto" and dev.type == "cpu" else None
    if Ks is not None and (Qs := sparse_view(queries)) is not None:
        sims, idx = sparse_cosine_topk(Qs, Ks, k + extra, chunk=chunk_size)
    elif backend == "faiss" or (backend == "auto" and has_faiss and dev.type == "cpu"):
        sims, idx = _faiss_topk(dense(l2_normalize(queries)), dense(l2_normalize(keys)), k + extra)
    else:
        sims, idx = _torch_topk(
            dense(l2_normalize(queries)), dense(l2_normalize(keys)), k + extra, dev, chunk_size
        )
    if exclude_self:
        sims, idx = _drop_self(sims, idx)
    return sims, idx


def _torch_topk(q: np.ndarray, keys: np.ndarray, k: int, dev: torch.device, chunk: int):
    K = torch.from_numpy(keys).to(dev)
    sims, idx = [], []
    for start in range(0, len(q), chunk):
        Q = torch.from_numpy(q[start : start + chunk]).to(dev)
        s, i = (Q @ K.T).topk(k, dim=1, largest=True, sorted=True)
        sims.append(s.cpu())
        idx.append(i.cpu())
    return torch.cat(sims).numpy(), torch.cat(idx).numpy().astype(np.int64)


def _faiss_topk(q: np.ndarray, keys: np.ndarray, k: int):
    import faiss

    index = faiss.IndexFlatIP(keys.shape[1])
    index.add(np.ascontiguousarray(keys))
    sims, idx = index.search(np.ascontiguousarray(q), k)
    return sims.astype(np.float32), idx.astype(np.int64)


def _drop_self(sims: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's own index (row i of a self-query); if absent (ties), drop the last."""
    m = len(idx)
    own = idx == np.arange(m)[:, None]
    missing = ~own.any(1)
    own[missing, -1] = True
    keep = ~own
    k = idx.shape[1] - 1
    return sims[keep].reshape(m, k), idx[keep].reshape(m, k)


def knn_vote(
    sims: np.ndarray, neighbour_labels: np.ndarray, n_classes: int, temperature: float = 0.07
) -> np.ndarray:
    """DINO's weighted vote: class scores ``(m, n_classes)`` = sum over the k neighbours of
    ``exp(sim / T)`` for the neighbour's class. ``sims``, ``neighbour_labels``: ``(m, k)``."""
    weights = np.exp(sims.astype(np.float64) / temperature)
    scores = np.zeros((len(sims), n_classes), dtype=np.float64)
    rows = np.repeat(np.arange(len(sims)), sims.shape[1])
    np.add.at(scores, (rows, neighbour_labels.ravel()), weights.ravel())
    return scores


class KNNProbe:
    """Weighted kNN classifier of DINO (scikit-learn contract).

    Args:
        k: neighbours (default 20). temperature: T of the vote weights (default 0.07).
        backend: ``"auto"``, ``"torch"``, ``"faiss"``. device: torch device or ``"auto"``.

    Fitted attributes: ``classes_`` ``(c,)``, ``X_`` normalised train features ``(n, dim)``,
    ``y_`` train labels as class indices ``(n,)``.
    """

    def __init__(
        self, k: int = 20, temperature: float = 0.07, backend: str = "auto", device: str = "auto"
    ):
        self.k = k
        self.temperature = temperature
        self.backend = backend
        self.device = device

    def fit(self, X: np.ndarray, y: np.ndarray) -> KNNProbe:
        """Store the L2-normalised ``X`` ``(n, dim)`` (array-like, or scipy sparse: kept as CSR)
        and labels ``y`` ``(n,)``; returns self."""
        X = X if sp.issparse(X) else np.asarray(X)
        if X.shape[0] != len(y):
            raise ValueError(f"X has {X.shape[0]} rows but y has {len(y)}")
        self.classes_, self.y_ = np.unique(np.asarray(y), return_inverse=True)
        self.X_ = l2_normalize(X)
        return self

    def class_scores(self, X: np.ndarray) -> np.ndarray:
        """Summed vote weights ``(m, c)`` (columns in the order of ``classes_``)."""
        k = min(self.k, self.X_.shape[0])
        sims, idx = cosine_topk(X, self.X_, k, backend=self.backend, device=self.device)
        return knn_vote(sims, self.y_[idx], len(self.classes_), self.temperature)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels ``(m,)``."""
        return self.classes_[self.class_scores(X).argmax(1)]

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy in [0, 1]."""
        return float((self.predict(X) == np.asarray(y)).mean())


@dataclass
class KNNResult(ResultMixin):
    """Scores of the kNN probe: accuracy with 95% bootstrap interval, macro-F1, settings."""

    accuracy: Score
    macro_f1: float
    k: int
    temperature: float
    n_train: int
    n_test: int
    seconds: float
    title = "kNN probe"

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("accuracy", str(self.accuracy)),
            ("macro-F1", fmt(self.macro_f1)),
            ("k / T", f"{self.k} / {self.temperature}"),
            ("train / test", f"{self.n_train} / {self.n_test}"),
            ("seconds", fmt(self.seconds, 3)),
        ]


def knn_probe(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    k: int = 20,
    temperature: float = 0.07,
    backend: str = "auto",
    device: str = "auto",
    seed: int = 0,
) -> KNNResult:
    """Fit :class:`KNNProbe` on the train split and score the test split (see module doc)."""
    start = time.perf_counter()
    pred = KNNProbe(k, temperature, backend, device).fit(X_train, y_train).predict(X_test)
    return KNNResult(
        accuracy=accuracy_with_ci(y_test, pred, seed=seed),
        macro_f1=float(f1_score(y_test, pred, average="macro", labels=np.unique(y_test))),
        k=min(k, len(y_train)),
        temperature=temperature,
        n_train=len(y_train),
        n_test=len(y_test),
        seconds=time.perf_counter() - start,
    )
