"""``dictionary:D``: sparse coding of the pixels with a dictionary of D atoms learned on the data.

Fit: scikit-learn ``MiniBatchDictionaryLearning`` (online dictionary learning, Mairal et
al. 2009, "Online dictionary learning for sparse coding", ICML) on the centred pixels in
[0, 1]. Encode: the sparse code ``a`` minimising ``0.5 * ||x - mean - a @ D||^2 +
alpha * ||a||_1`` (the lasso; solved by coordinate descent, ``algorithm="lasso_cd"``, the
default, or by LARS, ``"lasso_lars"``: the same codes, ~20x slower on 2 cores) or the
``n_nonzero``-sparse orthogonal matching pursuit code (``algorithm="omp"``), via
``sklearn.decomposition.sparse_encode``. The dictionary is fitted with coordinate descent
too (``fit_algorithm="cd"``). Output float32 ``(n, D)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from reprlearn.encoders.base import Encoder
from reprlearn.encoders.classical import PixelEncoder, _positive_int
from reprlearn.encoders.registry import register

ALGORITHMS = ("lasso_cd", "lasso_lars", "omp")


class DictionaryEncoder(PixelEncoder):
    """Sparse codes over a learned dictionary: ``(n, n_atoms)``.

    Args:
        n_atoms: dictionary size D.
        alpha: L1 weight of fit and lasso encoding (default 0.1, pixels in [0, 1]).
        algorithm: ``"lasso_cd"`` (default), ``"lasso_lars"`` or ``"omp"``.
        n_nonzero: non-zeros per code for ``omp`` (default ``max(1, D // 10)``).
        max_iter: passes over the data while fitting (default 5).
        seed: random state of the fit (default 0).

    Raises:
        ValueError: unknown ``algorithm``, or ``alpha`` <= 0.
    """

    def __init__(
        self, n_atoms: int, alpha: float = 0.1, algorithm: str = "lasso_cd",
        n_nonzero: int | None = None, max_iter: int = 5, seed: int = 0,
    ) -> None:  # fmt: skip
        if algorithm not in ALGORITHMS:
            raise ValueError(
                f"dictionary: algorithm must be one of {ALGORITHMS}, got {algorithm!r}"
            )
        if alpha <= 0:
            raise ValueError(f"dictionary: alpha must be > 0, got {alpha}")
        self.n_atoms, self.alpha, self.algorithm = n_atoms, float(alpha), algorithm
        self.n_nonzero = n_nonzero or max(1, n_atoms // 10)
        self.max_iter, self.seed = max_iter, seed

    def fit(self, items: Sequence[Image.Image]) -> DictionaryEncoder:
        """Learn the dictionary on ``items``; returns ``self``."""
        from sklearn.decomposition import MiniBatchDictionaryLearning
        from sklearn.exceptions import ConvergenceWarning

        super().fit(items)
        X = self.pixels(items)
        self.mean_ = X.mean(0)
        learner = MiniBatchDictionaryLearning(
            n_components=self.n_atoms, alpha=self.alpha, batch_size=256, max_iter=self.max_iter,
            fit_algorithm="cd",
            random_state=self.seed,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.components_ = learner.fit(X - self.mean_).components_.astype(np.float32)
        return self

    def encode(self, items: Sequence[Image.Image]) -> np.ndarray:
        """Sparse codes float32 ``(len(items), n_atoms)``."""
        from sklearn.decomposition import sparse_encode
        from sklearn.exceptions import ConvergenceWarning

        X = self.pixels(items) - self.mean_
        kwargs = {"alpha": self.alpha} if self.algorithm.startswith("lasso") else {}
        if self.algorithm == "omp":
            kwargs["n_nonzero_coefs"] = self.n_nonzero
        with warnings.catch_warnings():  # lasso_cd stops at max_iter on hard rows: fine for codes
            warnings.simplefilter("ignore", ConvergenceWarning)
            codes = sparse_encode(X, self.components_, algorithm=self.algorithm, **kwargs)
        return codes.astype(np.float32)

    @property
    def dim(self) -> int:
        return self.n_atoms

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        _, config = super().state()
        config |= {"n_atoms": self.n_atoms, "alpha": self.alpha, "algorithm": self.algorithm,
                   "n_nonzero": self.n_nonzero}  # fmt: skip
        return {"mean": self.mean_, "components": self.components_}, config

    def load_state(
        self, arrays: dict[str, np.ndarray], config: dict[str, Any]
    ) -> DictionaryEncoder:
        super().load_state(arrays, config)
        self.n_atoms, self.alpha = int(config["n_atoms"]), float(config["alpha"])
        self.algorithm, self.n_nonzero = config["algorithm"], int(config["n_nonzero"])
        self.mean_, self.components_ = arrays["mean"], arrays["components"]
        return self


@register(
    "dictionary",
    description="sparse codes over a dictionary of D atoms learned on the pixels (sklearn)",
    example="dictionary:64",
)
def _dictionary(identifier: str, **options: Any) -> Encoder:
    return DictionaryEncoder(_positive_int(identifier, "dictionary"), **options)
