"""Disentanglement scores of a code against known generative factors: DCI and MIG.

* **DCI** (Eastwood & Williams 2018, "A framework for the quantitative evaluation of
  disentangled representations", ICLR): one predictor per factor gives an importance
  matrix ``R`` ``(n_codes, n_factors)``; *disentanglement* = importance-weighted
  ``1 - H_K(P_i.)`` over codes (each code explains one factor), *completeness* =
  importance-weighted ``1 - H_D(P_.j)`` over factors (each factor is captured by one
  code), *informativeness* = held-out accuracy of the predictors.
* **MIG** (Chen et al. 2018, "Isolating sources of disentanglement in VAEs", NeurIPS):
  per factor, the gap between the two largest mutual informations with (histogram-
  discretised) codes, divided by the factor's entropy; averaged over factors.

Both follow google-research/disentanglement_lib
(``evaluation/metrics/dci.py``, ``mig.py`` and ``utils.py``: gradient-boosted trees for
the importances, 20 equal-width bins per code, ``sklearn.metrics.mutual_info_score``).
Scores lie in [0, 1]; 1 = perfectly disentangled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.stats
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import mutual_info_score
from sklearn.model_selection import train_test_split

Importance = Literal["gbt", "forest"]


@dataclass
class DCIScores:
    """DCI scores (Eastwood & Williams 2018).

    Attributes:
        disentanglement, completeness: in [0, 1].
        informativeness: mean held-out accuracy of the per-factor predictors.
        informativeness_train: the same on the training rows.
        importance: ``(n_codes, n_factors)`` feature importances.
    """

    disentanglement: float
    completeness: float
    informativeness: float
    informativeness_train: float
    importance: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "disentanglement": self.disentanglement,
            "completeness": self.completeness,
            "informativeness": self.informativeness,
            "informativeness_train": self.informativeness_train,
            "importance": self.importance.round(4).tolist(),
        }


@dataclass
class MIGScore:
    """Mutual information gap (Chen et al. 2018).

    Attributes:
        mig: mean normalised gap over factors, in [0, 1].
        per_factor: ``(n_factors,)`` normalised gaps.
        mutual_info: ``(n_codes, n_factors)`` mutual information, nats.
    """

    mig: float
    per_factor: np.ndarray = field(repr=False)
    mutual_info: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"mig": self.mig, "per_factor": self.per_factor.round(4).tolist()}


def _check(codes: np.ndarray, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, factors = np.asarray(codes, dtype=np.float64), np.asarray(factors)
    if codes.ndim != 2 or factors.ndim != 2 or len(codes) != len(factors):
        raise ValueError(
            f"need codes (n, n_codes) and factors (n, n_factors) with the same n, got "
            f"{codes.shape} and {factors.shape}"
        )
    constant = [j for j in range(factors.shape[1]) if len(np.unique(factors[:, j])) < 2]
    if constant:
        raise ValueError(f"factor columns {constant} take a single value: drop them")
    return codes, factors


def importance_matrix(
    codes: np.ndarray,
    factors: np.ndarray,
    *,
    method: Importance = "gbt",
    test_size: float = 0.25,
    seed: int = 0,
) -> tuple[np.ndarray, float, float]:
    """Per-factor classifiers on the codes -> ``(R (n_codes, n_factors), train_acc, test_acc)``.

    ``method="gbt"``: ``GradientBoostingClassifier`` (disentanglement_lib's default);
    ``"forest"``: a 100-tree ``RandomForestClassifier`` considering every code at each split
    (``max_features=None``, so importances are not spread by random feature choice; faster).
    """
    codes, factors = _check(codes, factors)
    split = train_test_split(codes, factors, test_size=test_size, random_state=seed)
    x_tr, x_te, f_tr, f_te = split
    r = np.zeros((codes.shape[1], factors.shape[1]))
    train_acc, test_acc = [], []
    for j in range(factors.shape[1]):
        if method == "gbt":
            model = GradientBoostingClassifier(random_state=seed)
        else:
            model = RandomForestClassifier(
                100, max_features=None, min_samples_leaf=5, random_state=seed, n_jobs=-1
            )
        model.fit(x_tr, f_tr[:, j])
        r[:, j] = np.abs(model.feature_importances_)
        train_acc.append(model.score(x_tr, f_tr[:, j]))
        test_acc.append(model.score(x_te, f_te[:, j]))
    return r, float(np.mean(train_acc)), float(np.mean(test_acc))


def dci_from_importance(r: np.ndarray) -> tuple[float, float]:
    """``(disentanglement, completeness)`` of an importance matrix ``(n_codes, n_factors)``."""
    eps = 1e-11
    n_codes, n_factors = r.shape
    per_code = 1.0 - scipy.stats.entropy(r.T + eps, base=n_factors) if n_factors > 1 else 1.0
    per_factor = 1.0 - scipy.stats.entropy(r + eps, base=n_codes) if n_codes > 1 else 1.0
    total = r.sum() or 1.0
    d = float(np.sum(per_code * r.sum(axis=1) / total))
    c = float(np.sum(per_factor * r.sum(axis=0) / total))
    return d, c


def dci(
    codes: np.ndarray,
    factors: np.ndarray,
    *,
    method: Importance = "gbt",
    max_samples: int | None = 10_000,
    test_size: float = 0.25,
    seed: int = 0,
) -> DCIScores:
    """DCI disentanglement, completeness and informativeness of ``codes`` w.r.t. ``factors``.

    Args:
        codes: ``(n, n_codes)`` representation.
        factors: ``(n, n_factors)`` discrete factor values (class indices).
        method: importance model, ``"gbt"`` (default, as disentanglement_lib) or ``"forest"``.
        max_samples: rows used at most (a seeded random subset; default 10,000, None = all).
        test_size: held-out share for informativeness (default 0.25).
        seed: seed of the subset, split and models.

    Raises:
        ValueError: mismatched shapes, or a factor with a single value.
    """
    codes, factors = _subsample(codes, factors, max_samples, seed)
    r, train_acc, test_acc = importance_matrix(
        codes, factors, method=method, test_size=test_size, seed=seed
    )
    d, c = dci_from_importance(r)
    return DCIScores(d, c, test_acc, train_acc, r)


def discretize(codes: np.ndarray, bins: int = 20) -> np.ndarray:
    """Equal-width histogram bins per code column: int ``(n, n_codes)`` (disentanglement_lib's
    ``_histogram_discretize``)."""
    out = np.zeros(codes.shape, dtype=np.int64)
    for i in range(codes.shape[1]):
        edges = np.histogram(codes[:, i], bins)[1][:-1]
        out[:, i] = np.digitize(codes[:, i], edges)
    return out


def mig(
    codes: np.ndarray,
    factors: np.ndarray,
    *,
    bins: int = 20,
    max_samples: int | None = 10_000,
    seed: int = 0,
) -> MIGScore:
    """Mutual information gap of ``codes`` ``(n, n_codes)`` w.r.t. discrete ``factors`` ``(n, k)``.

    Args:
        bins: equal-width bins per code (default 20, as disentanglement_lib).
        max_samples: rows used at most (seeded subset; default 10,000; None = all).

    Raises:
        ValueError: mismatched shapes, a factor with a single value, or fewer than 2 codes.
    """
    codes, factors = _subsample(codes, factors, max_samples, seed)
    if codes.shape[1] < 2:
        raise ValueError("MIG needs at least 2 code dimensions")
    discrete = discretize(codes, bins)
    mi = np.array(
        [
            [mutual_info_score(factors[:, j], discrete[:, i]) for j in range(factors.shape[1])]
            for i in range(codes.shape[1])
        ]
    )
    entropy = np.array([mutual_info_score(f, f) for f in factors.T])
    top = np.sort(mi, axis=0)[::-1]
    per_factor = (top[0] - top[1]) / entropy
    return MIGScore(float(per_factor.mean()), per_factor, mi)


def _subsample(codes, factors, max_samples, seed):
    codes, factors = _check(codes, factors)
    if max_samples is not None and len(codes) > max_samples:
        idx = np.random.default_rng(seed).choice(len(codes), max_samples, replace=False)
        return codes[idx], factors[idx]
    return codes, factors
