"""The linear probe: standardised features + multinomial logistic regression (L2 penalty).

The model and objective are scikit-learn's ``LogisticRegression(C=C, solver="lbfgs")``
(sklearn/linear_model/_logistic.py): softmax regression with an unpenalised intercept,
minimising ``mean_i CE_i + ||W||^2 / (2 C n)`` (= ``sum CE + ||W||^2 / (2C)`` divided by
``n``), solved here by full-batch L-BFGS in torch (``torch.optim.LBFGS``, strong-Wolfe line
search, history 10, stop when the largest gradient entry < ``tol``, as sklearn's ``gtol``)
in float32 on the chosen device, so it runs on a GPU when there is one. Mostly-zero
features (TF-IDF) on the CPU keep a CSR view and standardise implicitly (see
:class:`_SparseDesign`): each L-BFGS step costs ``nnz x k``, not ``n x dim x k``, and
columns that are all zero in the training rows (most of a small TF-IDF sample's
vocabulary) are left out of the fit: their weights stay exactly 0 (zero gradient), so the
optimum is the same with far fewer parameters.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.metrics import confusion_matrix, f1_score

from reprlearn.device import resolve_device
from reprlearn.evaluation.blas_threads import SMALL_WORK
from reprlearn.evaluation.result import ResultMixin, fmt
from reprlearn.evaluation.sparsity import sparse_view, used_columns
from reprlearn.evaluation.statistics import Score, accuracy_with_ci


class LinearProbe:
    """Multinomial logistic regression on standardised features (scikit-learn contract).

    Args:
        C: inverse L2 strength, as scikit-learn's ``C`` (default 1.0).
        max_iter: L-BFGS iterations (default 1000).
        tol: stop when ``max |grad|`` of the mean objective < ``tol`` (default 1e-4, sklearn's).
        standardize: z-score features with the training mean/std first (default True).
        device: ``"auto"`` (cuda > mps > cpu) or a torch device string.

    Fitted attributes: ``classes_`` ``(k,)``, ``mean_``/``scale_`` ``(dim,)``,
    ``coef_`` ``(k, dim)``, ``intercept_`` ``(k,)`` (on standardised features), ``n_iter_``.
    """

    def __init__(
        self,
        C: float = 1.0,
        max_iter: int = 1000,
        tol: float = 1e-4,
        standardize: bool = True,
        device: str = "auto",
    ) -> None:
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.standardize = standardize
        self.device = device

    def fit(self, X: np.ndarray, y: np.ndarray) -> LinearProbe:
        """Fit on ``X`` float ``(n, dim)`` (an array, or a scipy sparse matrix) and ``y``
        int ``(n,)``; returns ``self``.

        Raises:
            ValueError: mismatched lengths, fewer than 2 classes, or ``C <= 0``.
        """
        X, y = (X if sp.issparse(X) else np.asarray(X)), np.asarray(y)
        if X.ndim != 2 or X.shape[0] != len(y):
            raise ValueError(f"X must be (n, dim) and y (n,); got {X.shape} and {y.shape}")
        if self.C <= 0:
            raise ValueError(f"C must be > 0, got {self.C}")
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("the linear probe needs at least 2 classes")
        dev = resolve_device(self.device)
        S = sparse_view(X) if dev.type == "cpu" else None
        X = X.toarray() if S is None and sp.issparse(X) else X
        used = None  # mostly-zero rows: the columns with a non-zero (the others keep W = 0)
        if S is not None:
            used = used_columns(S)
            design = _SparseDesign(S[:, used], self.standardize)
            mean, scale, Xt = design.mean, design.scale, design
            work = S.nnz * len(self.classes_)
        else:
            Xt = torch.from_numpy(np.require(X, np.float32, ["C", "W"])).to(dev)
            if self.standardize:
                mean = Xt.mean(0)
                scale = Xt.std(0, unbiased=False)
                scale = torch.where(scale > 0, scale, torch.ones_like(scale))
            else:
                mean = torch.zeros(X.shape[1], device=dev)
                scale = torch.ones(X.shape[1], device=dev)
            Xt = (Xt - mean) / scale
            work = X.shape[0] * X.shape[1] * len(self.classes_)
        yt = torch.as_tensor(y_idx, dtype=torch.long, device=dev)
        with _cpu_threads(dev, work):
            W, b, self.n_iter_ = _fit_softmax(
                Xt, yt, len(self.classes_), self.C, self.max_iter, self.tol
            )
        self.mean_, self.scale_ = mean.cpu().numpy(), scale.cpu().numpy()
        self.coef_, self.intercept_ = W.cpu().numpy(), b.cpu().numpy()
        if used is not None:  # all-zero columns: mean 0, scale 1, weight 0 (exactly the
            # optimum: their gradient is always 0, so L-BFGS never moves them)
            self.mean_, self.scale_, self.coef_ = _expand(used, X.shape[1], self.mean_,
                                                          self.scale_, self.coef_)  # fmt: skip
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Class logits, float32 ``(n, k)``."""
        if (S := sparse_view(X)) is not None:  # (X - mean)/scale W^T without densifying
            Ws = (self.coef_ / self.scale_).astype(np.float32)
            return np.asarray(S @ Ws.T, dtype=np.float32) + (self.intercept_ - Ws @ self.mean_)
        Z = (np.asarray(X, dtype=np.float32) - self.mean_) / self.scale_
        return Z @ self.coef_.T + self.intercept_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Softmax probabilities ``(n, k)``, columns in the order of ``classes_``."""
        return torch.softmax(torch.from_numpy(self.decision_function(X)), dim=1).numpy()

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels ``(n,)`` (values of ``classes_``)."""
        return self.classes_[self.decision_function(X).argmax(1)]

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy in [0, 1]."""
        return float((self.predict(X) == np.asarray(y)).mean())


def _expand(used: np.ndarray, dim: int, mean, scale, coef):
    """Mean, scale ``(dim,)`` and coefficients ``(k, dim)`` from those of the ``used``
    columns (the others: mean 0, scale 1, coefficient 0)."""
    full_mean, full_scale = np.zeros(dim, np.float32), np.ones(dim, np.float32)
    full_coef = np.zeros((len(coef), dim), np.float32)
    full_mean[used], full_scale[used], full_coef[:, used] = mean, scale, coef
    return full_mean, full_scale, full_coef


@contextlib.contextmanager
def _cpu_threads(device: torch.device, work: int) -> Iterator[None]:
    """Run CPU problems with ``n * dim * k`` < 1e9 on one thread: L-BFGS does many small
    ops, where intra-op threads cost more than they give when the cores are shared (10x
    on a busy 2-core box), and a fixed count keeps the fit reproducible (the summation
    order of a product depends on the thread count, and L-BFGS follows it: a 54-class
    MiniLM probe scored 0.6515 on one thread and 0.6505 to 0.653 on a count chosen by
    measured speed). MiniLM 8,000 x 384, 54 classes (1.7e8): 1.9 s on one thread vs 1.4
    s on two idle cores, but 2.9 vs 7.4 s with another job on them. (The bound was 2e7
    until issue 16's third round.)"""
    if device.type != "cpu" or work >= SMALL_WORK:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _SparseDesign:
    """The standardised design ``(X - mean) / scale`` of a CSR ``X`` ``(n, dim)``, never
    formed: ``Z W^T = X (W / scale)^T - (mean / scale) W^T`` and ``G^T Z = (G^T X -
    g mean) / scale`` (``g`` = column sums of ``G``) cost ``nnz x k`` each instead of
    ``n x dim x k``; same numbers as the dense path up to float rounding. Mean and
    (biased) std in float64, as float32 tensors."""

    def __init__(self, S, standardize: bool) -> None:
        self.shape = S.shape
        dim = S.shape[1]
        if standardize:
            mean = np.asarray(S.mean(0), dtype=np.float64).ravel()
            sq = np.asarray(S.multiply(S).mean(0), dtype=np.float64).ravel()
            std = np.sqrt(np.clip(sq - mean**2, 0.0, None))
            std = np.where(std > 0, std, 1.0)
        else:
            mean, std = np.zeros(dim), np.ones(dim)
        self.mean = torch.from_numpy(mean.astype(np.float32))
        self.scale = torch.from_numpy(std.astype(np.float32))
        self.X = _torch_csr(S)
        self.XT = _torch_csr(S.T.tocsr())

    def logits(self, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        Ws = W / self.scale
        return torch.sparse.mm(self.X, Ws.T) + (b - Ws @ self.mean)

    def grad(self, G: torch.Tensor) -> torch.Tensor:
        GtX = torch.sparse.mm(self.XT, G).T.contiguous()
        return (GtX - torch.outer(G.sum(0), self.mean)) / self.scale


def _torch_csr(S) -> torch.Tensor:
    S = S.astype(np.float32)
    with warnings.catch_warnings():  # "CSR support is in beta": products only, no edits
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(S.indptr.astype(np.int64)),
            torch.from_numpy(S.indices.astype(np.int64)),
            torch.from_numpy(S.data),
            size=S.shape,
            check_invariants=False,
        )


def _fit_softmax(
    X: torch.Tensor | _SparseDesign,
    y: torch.Tensor,
    k: int,
    C: float,
    max_iter: int,
    tol: float,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Minimise ``mean CE + ||W||^2/(2Cn)`` by full-batch L-BFGS; returns (W, b, iterations).
    ``X``: the standardised features, a dense tensor or a :class:`_SparseDesign`."""
    n, dim = X.shape
    device = y.device
    W = torch.zeros(k, dim, device=device)
    b = torch.zeros(k, device=device)
    l2 = 1.0 / (2.0 * C * n)
    onehot = torch.nn.functional.one_hot(y, k).to(torch.float32)
    sparse = isinstance(X, _SparseDesign)
    opt = torch.optim.LBFGS(
        [W, b],
        lr=1.0,
        max_iter=max_iter,
        history_size=10,
        tolerance_grad=tol,
        tolerance_change=1e-12,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        # analytic gradient (no autograd graph): d/dlogits mean CE = (softmax - onehot) / n
        with torch.no_grad():
            logits = X.logits(W, b) if sparse else torch.addmm(b, X, W.T)
            logp = torch.log_softmax(logits, dim=1)
            loss = -(logp * onehot).sum() / n + l2 * (W * W).sum()
            G = (logp.exp_() - onehot) / n
            W.grad = (X.grad(G) if sparse else G.T @ X) + (2 * l2) * W
            b.grad = G.sum(0)
        return loss

    opt.step(closure)
    n_iter = int(opt.state[opt._params[0]].get("n_iter", 0))
    return W, b, n_iter


@dataclass
class LinearProbeResult(ResultMixin):
    """Scores of a linear probe on a test split.

    Attributes:
        accuracy: fraction correct with a 95% bootstrap interval over test items.
        macro_f1: unweighted mean of per-class F1 (in [0, 1]).
        n_train, n_test: sizes of the splits.
        C: the L2 setting used.
        seconds: fit time in seconds.
        confusion: ``(k, k)`` counts (rows = true class) when asked for, else None.
        correct: bool ``(n_test,)``, whether each test item was predicted right (for
            paired tests such as McNemar's; left out of ``to_dict``).
    """

    accuracy: Score
    macro_f1: float
    n_train: int
    n_test: int
    C: float
    seconds: float
    confusion: np.ndarray | None = field(default=None, repr=False)
    correct: np.ndarray | None = field(default=None, repr=False)
    title = "linear probe"

    def to_dict(self) -> dict:
        """JSON-able fields (without the per-item ``correct`` vector)."""
        data = super().to_dict()
        data.pop("correct", None)
        return data

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("accuracy", str(self.accuracy)),
            ("macro-F1", fmt(self.macro_f1)),
            ("train / test", f"{self.n_train} / {self.n_test}"),
            ("C", fmt(self.C)),
            ("fit seconds", fmt(self.seconds, 3)),
        ]


def linear_probe(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    C: float = 1.0,
    device: str = "auto",
    confusion: bool = False,
    seed: int = 0,
) -> LinearProbeResult:
    """Fit :class:`LinearProbe` on the train split, score the test split.

    Args:
        X_train, X_test: float ``(n, dim)``; y_train, y_test: int ``(n,)``.
        C: inverse L2 strength (sklearn's ``C``). device: torch device or ``"auto"``.
        confusion: also return the ``(k, k)`` confusion matrix over all train+test labels.
        seed: seed of the bootstrap interval.
    """
    start = time.perf_counter()
    model = LinearProbe(C=C, device=device).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    pred = model.predict(X_test)
    labels = np.union1d(np.unique(y_train), np.unique(y_test))
    return LinearProbeResult(
        accuracy=accuracy_with_ci(y_test, pred, seed=seed),
        macro_f1=float(f1_score(y_test, pred, average="macro", labels=np.unique(y_test))),
        n_train=len(y_train),
        n_test=len(y_test),
        C=C,
        seconds=seconds,
        confusion=confusion_matrix(y_test, pred, labels=labels) if confusion else None,
        correct=pred == np.asarray(y_test),
    )


def confusion_matrix_png(
    confusion: np.ndarray,
    class_names: Sequence[str] | None,
    path: str | Path,
    *,
    normalize: bool = True,
) -> Path:
    """Draw a ``(k, k)`` confusion matrix (rows = true, columns = predicted) to a PNG.

    Args:
        confusion: counts ``(k, k)``.
        class_names: ``k`` names for the axes (default ``0..k-1``).
        path: output file. normalize: colour by row fraction (default True; cells show counts).

    Returns:
        ``path`` as a Path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = confusion.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    rows = confusion.sum(1, keepdims=True)
    shade = confusion / np.maximum(rows, 1) if normalize else confusion
    size = max(4.0, 0.45 * k + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(shade, cmap="Blues")
    ax.set_xticks(range(k), names, rotation=90 if k > 6 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= 30:
        for i in range(k):
            for j in range(k):
                color = "white" if shade[i, j] > 0.5 * shade.max() else "black"
                ax.text(
                    j, i, str(confusion[i, j]), ha="center", va="center", fontsize=7, color=color
                )
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
