"""Score an embedding store against its source's known generative factors.

For a store whose source has factor columns (``shapes``: shape, color, size, x, y; any
dataset with extra categorical or numeric columns), :func:`probe_factors` reports per
factor how linearly decodable it is (accuracy of a logistic-regression probe on
standardised features for discrete factors, R^2 of ridge regression for continuous
ones, on a held-out 25% split) and how disentangled the code is (DCI, Eastwood &
Williams 2018; MIG, Chen et al. 2018: :mod:`reprlearn.evaluation.disentanglement`).
This is the factor-wise evaluation of Locatello et al. 2019 ("Challenging common
assumptions in the unsupervised learning of disentangled representations").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.markup import escape
from rich.table import Table
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from reprlearn.errors import DataError

if TYPE_CHECKING:
    from reprlearn.store import EmbeddingStore
from reprlearn.evaluation.disentanglement import DCIScores, MIGScore, dci, mig

NOT_FACTORS = {"image", "text", "label", "id", "embedding"}
MAX_CLASSES = 50  # integer columns with more distinct values are treated as continuous


@dataclass
class FactorScore:
    """Linear decodability of one factor.

    Attributes:
        factor: column name.
        kind: ``"discrete"`` (score = held-out accuracy) or ``"continuous"`` (score = R^2).
        score: accuracy in [0, 1] or R^2 (<= 1).
        chance: majority-class accuracy (discrete) or 0 (continuous).
        n_values: distinct values (discrete) or 0.
    """

    factor: str
    kind: str
    score: float
    chance: float
    n_values: int


@dataclass
class FactorReport:
    """Per-factor probes + DCI + MIG of one embedding space.

    Attributes:
        encoder: the store's encoder name.
        n: rows scored.
        factors: one :class:`FactorScore` per factor.
        dci: DCI scores over all factors (continuous ones binned in 10 quantiles); None
            when skipped.
        mig: MIG (None for 1-d embeddings or when skipped).
    """

    encoder: str
    n: int
    factors: list[FactorScore]
    dci: DCIScores | None = None
    mig: MIGScore | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "encoder": self.encoder,
            "n": self.n,
            "factors": [vars(f) for f in self.factors],
            "dci": self.dci.to_dict() if self.dci else None,
            "mig": self.mig.to_dict() if self.mig else None,
            **self.extra,
        }

    def table(self) -> Table:
        """A rich table: one row per factor, then DCI and MIG."""
        t = Table(title=escape(f"factors of {self.encoder} (n={self.n})"))
        for col in ("factor", "kind", "probe", "chance", "MIG gap"):
            t.add_column(col, justify="left" if col in ("factor", "kind") else "right")
        gaps = self.mig.per_factor if self.mig else [None] * len(self.factors)
        for f, gap in zip(self.factors, gaps, strict=True):
            metric = "acc" if f.kind == "discrete" else "R2"
            t.add_row(escape(str(f.factor)), f.kind, f"{f.score:.3f} {metric}",
                      f"{f.chance:.3f}" if f.kind == "discrete" else "-",
                      "-" if gap is None else f"{gap:.3f}")  # fmt: skip
        d = self.dci
        t.add_section()
        if d is None:
            t.add_row("DCI", "", "-", "", "")
        else:
            t.add_row("DCI", "", f"D {d.disentanglement:.3f}", f"C {d.completeness:.3f}",
                      f"I {d.informativeness:.3f}")  # fmt: skip
        t.add_row("MIG", "", "-" if self.mig is None else f"{self.mig.mig:.3f}", "", "")
        return t


def factor_columns(ds) -> list[str]:
    """Columns of a ``datasets.Dataset`` that are factors: all but image/text/label/id."""
    return [c for c in ds.column_names if c not in NOT_FACTORS]


def is_discrete(values: np.ndarray) -> bool:
    """Integer / boolean / string values with <= 50 distinct values."""
    if values.dtype.kind in "biuUSO":
        return values.dtype.kind in "UOS" or len(np.unique(values)) <= MAX_CLASSES
    return False


def score_factors(
    X: np.ndarray,
    factors: dict[str, np.ndarray],
    *,
    encoder: str = "",
    seed: int = 0,
    dci_method: str = "gbt",
    max_samples: int | None = 10_000,
    disentanglement: bool = True,
) -> FactorReport:
    """Probe each factor from ``X`` ``(n, dim)`` and compute DCI/MIG.

    Args:
        X: embeddings ``(n, dim)``.
        factors: name -> values ``(n,)`` (ints/strings = discrete, floats = continuous).
        encoder: name shown in the report.
        seed: seed of the held-out split, the subsample and the DCI models.
        dci_method: ``"gbt"`` (as disentanglement_lib) or ``"forest"`` (faster).
        max_samples: rows used at most for DCI/MIG (default 10,000).
        disentanglement: compute DCI and MIG (default True; False for very wide
            embeddings such as raw pixels, where the per-factor trees are slow).

    Raises:
        DataError: no factors, or factor lengths that differ from ``len(X)``.
    """
    if not factors:
        raise DataError("no factor columns to score (shapes has shape, color, size, x, y)")
    scores, codes = [], []
    for name, values in factors.items():
        values = np.asarray(values)
        if len(values) != len(X):
            raise DataError(f"factor {name!r} has {len(values)} rows, the embeddings {len(X)}")
        scores.append(_probe(X, values, name, seed))
        codes.append(_as_codes(values, scores[-1].kind))
    if not disentanglement:
        return FactorReport(encoder, len(X), scores)
    F = np.stack(codes, axis=1)
    keep = [j for j in range(F.shape[1]) if len(np.unique(F[:, j])) > 1]
    d = dci(X, F[:, keep], method=dci_method, max_samples=max_samples, seed=seed)
    m = mig(X, F[:, keep], max_samples=max_samples, seed=seed) if X.shape[1] > 1 else None
    if m is not None and len(keep) < F.shape[1]:  # constant factors have no gap
        per = np.full(F.shape[1], np.nan)
        per[keep] = m.per_factor
        m.per_factor = per
    return FactorReport(encoder, len(X), scores, d, m)


def probe_factors(store: EmbeddingStore | str | Path, *, seed: int = 0, dci_method: str = "gbt",
                  max_samples: int | None = 10_000, disentanglement: bool = True,
                  ) -> FactorReport:  # fmt: skip
    """Score an :class:`~reprlearn.store.EmbeddingStore` (or its folder) against its source's factor columns.

    Reloads the source (``load_dataset(**manifest["source"]["spec"])``), takes the rows of
    ``store.ids()`` and calls :func:`score_factors` with every factor column (same options).

    Raises:
        DataError: the store does not record a reloadable source, or the source has no
            factor columns.
    """
    from reprlearn.data import load_dataset
    from reprlearn.store import EmbeddingStore

    if not isinstance(store, EmbeddingStore):
        store = EmbeddingStore.open(store)
    spec = (store.manifest.get("source") or {}).get("spec")
    if not spec:
        raise DataError(
            f"{store.path}: the manifest records no source spec, so its factors cannot be "
            "reloaded; embed a source given by name or path (e.g. `reprlearn embed shapes`)"
        )
    ds = load_dataset(**spec)
    names = factor_columns(ds)
    if not names:
        raise DataError(
            f"{store.path}: source {spec.get('source')!r} has no factor columns (only "
            f"{ds.column_names}); factors come with sources such as `shapes`"
        )
    X, _ = store.to_numpy()
    ids = store.ids()
    table = ds.select_columns(names).with_format("numpy")[ids.tolist()]
    factors = {n: np.asarray(table[n]) for n in names}
    return score_factors(X, factors, encoder=store.encoder_name, seed=seed,
                         dci_method=dci_method, max_samples=max_samples,
                         disentanglement=disentanglement)  # fmt: skip


def _probe(X: np.ndarray, y: np.ndarray, name: str, seed: int) -> FactorScore:
    discrete = is_discrete(y)
    strat = y if discrete and np.unique(y, return_counts=True)[1].min() >= 2 else None
    x_tr, x_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=seed,
                                              stratify=strat)  # fmt: skip
    if discrete:
        values, counts = np.unique(y_tr, return_counts=True)
        if len(values) < 2:
            return FactorScore(name, "discrete", 1.0, 1.0, 1)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        score = model.fit(x_tr, y_tr).score(x_te, y_te)
        chance = float(np.mean(y_te == values[counts.argmax()]))
        return FactorScore(name, "discrete", float(score), chance, len(np.unique(y)))
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 7)))
    return FactorScore(name, "continuous", float(model.fit(x_tr, y_tr).score(x_te, y_te)), 0.0, 0)


def _as_codes(values: np.ndarray, kind: str) -> np.ndarray:
    """Factor values -> int codes for DCI/MIG (continuous: 10 quantile bins)."""
    if kind == "discrete":
        return np.unique(values, return_inverse=True)[1]
    edges = np.quantile(values, np.linspace(0, 1, 11)[1:-1])
    return np.digitize(values, edges)
