"""``probe``: run evaluation protocols on an embedding store (the engine of ``reprlearn probe``).

Splits: with ``test`` (a second store of the same encoder), every protocol trains on
the first store and scores the second. Without it:

* ``linear``, ``knn``: a seeded stratified 80/20 split of the store; spread = 95%
  bootstrap interval over the 20% test items;
* ``mteb``: the same stratified 20% holdout as test (MTEB's 10 undersampled experiments
  on the 80%; spread = std over experiments);
* ``senteval``: SentEval's 10-fold inner-CV protocol (spread = std over folds);
* ``kmeans``, ``logme``: all items of the first store (spread of kmeans = std over seeds;
  LogME is deterministic).

``"all"`` runs linear, knn, kmeans, mteb and logme; ``senteval`` (600 logistic
regressions for 10x10 folds) runs only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from reprlearn.errors import DataError, StoreError
from reprlearn.evaluation.clustering import ClusteringResult, kmeans_clustering
from reprlearn.evaluation.knn import KNNResult, knn_probe
from reprlearn.evaluation.linear_probe import LinearProbeResult, linear_probe
from reprlearn.evaluation.logme import logme
from reprlearn.evaluation.mteb import MTEBResult, holdout_split, mteb_classification
from reprlearn.evaluation.result import fmt, jsonable
from reprlearn.evaluation.senteval import SentEvalResult, senteval_cv, senteval_split
from reprlearn.evaluation.statistics import Score
from reprlearn.store import EmbeddingStore

PROTOCOLS = ("linear", "knn", "kmeans", "senteval", "mteb", "logme")
ALL = ("linear", "knn", "kmeans", "mteb", "logme")
TEST_FRACTION = 0.2


@dataclass
class Split:
    """Train/test arrays of a probe run and how the test part was made."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    given: bool  # True when the test part is a separate store

    @property
    def description(self) -> str:
        return "test store" if self.given else f"stratified {int(TEST_FRACTION * 100)}% holdout"


@dataclass
class ProbeResult:
    """Results of :func:`probe`: one entry per protocol in ``results`` (result objects with
    ``to_dict``/``table``; ``logme`` is a float), plus what was probed."""

    encoder: str
    store: str
    test_store: str | None
    n_items: int
    n_classes: int
    label_names: list[str] | None
    split: str
    results: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> list[tuple[str, str, Score | float]]:
        """(protocol, metric, score) rows: the main score(s) of each protocol."""
        rows: list[tuple[str, str, Score | float]] = []
        for name, res in self.results.items():
            for metric, score in _MAIN[name](res):
                rows.append((name, metric, score))
        return rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: settings, per-protocol details and the summary rows."""
        return {
            "encoder": self.encoder,
            "store": self.store,
            "test_store": self.test_store,
            "n_items": self.n_items,
            "n_classes": self.n_classes,
            "label_names": self.label_names,
            "split": self.split,
            "summary": [
                {
                    "protocol": p,
                    "metric": m,
                    **(jsonable(s) if isinstance(s, Score) else {"value": s}),
                }
                for p, m, s in self.summary()
            ],
            "protocols": {
                k: (v.to_dict() if hasattr(v, "to_dict") else jsonable(v))
                for k, v in self.results.items()
            },
        }

    def table(self) -> Table:
        """Rich table: protocol, metric, score, spread (± std or [95% interval])."""
        table = Table(
            title=f"probe: {self.encoder} ({self.n_items} items, {self.n_classes} classes)"
        )
        for column in ("protocol", "metric", "score", "spread"):
            table.add_column(column, justify="right" if column in ("score", "spread") else "left")
        for protocol, metric, score in self.summary():
            if isinstance(score, Score):
                spread = (
                    f"± {fmt(score.std)}"
                    if score.std is not None
                    else f"[{fmt(score.ci_low)}, {fmt(score.ci_high)}]"
                    if score.ci_low is not None
                    else ""
                )
                table.add_row(protocol, metric, fmt(score.value), spread)
            else:
                table.add_row(protocol, metric, fmt(score), "")
        return table


_MAIN: dict[str, Callable[[Any], list[tuple[str, Score | float]]]] = {
    "linear": lambda r: [("accuracy", r.accuracy), ("macro-F1", r.macro_f1)],
    "knn": lambda r: [(f"accuracy (k={r.k})", r.accuracy), ("macro-F1", r.macro_f1)],
    "kmeans": lambda r: [("V-measure", r.v_measure), ("NMI", r.nmi), ("ARI", r.ari)],
    "senteval": lambda r: [("accuracy", r.test)],
    "mteb": lambda r: [("accuracy", r.accuracy), ("macro-F1", r.f1)],
    "logme": lambda r: [("log evidence / sample", r)],
}


def _labelled(store: EmbeddingStore) -> tuple[np.ndarray, np.ndarray]:
    X, y = store.to_numpy()
    if y is None or not store.has_labels:
        raise DataError(
            f"{store.path} has no labels: probing needs labels. Embed a labelled source "
            "(e.g. `reprlearn embed data.csv --label-column label ...`; image folders take "
            "labels from class subfolders) and probe that store"
        )
    return X, y


def _open(store: EmbeddingStore | str | Path) -> EmbeddingStore:
    return store if isinstance(store, EmbeddingStore) else EmbeddingStore.open(store)


def _check_pair(train: EmbeddingStore, test: EmbeddingStore) -> None:
    if train.encoder_name != test.encoder_name:
        raise StoreError(
            f"the stores come from different encoders: {train.path} has "
            f"{train.encoder_name!r}, {test.path} has {test.encoder_name!r}; "
            "embed both splits with the same encoder"
        )
    if train.label_names != test.label_names:
        raise StoreError(
            f"the stores have different label names: {train.path} {train.label_names}, "
            f"{test.path} {test.label_names}; embed both splits of the same labelled source"
        )


def _split(X, y, X_test, y_test, seed: int) -> Split:
    if X_test is not None:
        return Split(X, y, X_test, y_test, given=True)
    _, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        raise DataError(
            "a class has a single item: the 80/20 stratified split needs at least 2 per "
            "class; add items or pass a separate --test store"
        )
    Xa, Xb, ya, yb = holdout_split(X, y, test_size=TEST_FRACTION, seed=seed)
    return Split(Xa, ya, Xb, yb, given=False)


def probe(
    store: EmbeddingStore | str | Path,
    protocol: str = "linear",
    test: EmbeddingStore | str | Path | None = None,
    *,
    samples_per_label: int = 8,
    experiments: int = 10,
    seed: int = 0,
    C: float = 1.0,
    k: int = 20,
    folds: int = 10,
    device: str = "auto",
    confusion: bool = True,
) -> ProbeResult:
    """Evaluate the embeddings of ``store`` with one protocol or ``"all"``.

    Args:
        store: an :class:`EmbeddingStore` or its folder; must have labels.
        protocol: one of :data:`PROTOCOLS` or ``"all"`` (see module doc for the splits).
        test: optional second store (same encoder and labels) to score on.
        samples_per_label, experiments: MTEB's undersampling (8) and repetitions (10).
        seed: seeds the split, bootstrap, MTEB shuffles and k-means.
        C: linear-probe inverse L2 strength (1.0). k: kNN neighbours (20, DINO).
        folds: SentEval folds (10). device: torch device for the linear and kNN probes.
        confusion: keep the linear probe's confusion matrix.

    Raises:
        DataError: a store without labels, fewer than 2 classes, unknown protocol.
        StoreError: the stores have different encoders or label names.
    """
    names = ALL if protocol == "all" else (protocol,)
    unknown = [p for p in names if p not in PROTOCOLS]
    if unknown:
        raise DataError(
            f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)} or all"
        )
    train = _open(store)
    X, y = _labelled(train)
    X_test = y_test = None
    test_store = None
    if test is not None:
        test_store = _open(test)
        _check_pair(train, test_store)
        X_test, y_test = _labelled(test_store)
    if len(np.unique(y)) < 2:
        raise DataError(
            f"{train.path}: all items have the same label; probing needs 2 or more classes"
        )
    split = _split(X, y, X_test, y_test, seed)
    result = ProbeResult(
        encoder=train.encoder_name,
        store=str(train.path),
        test_store=str(test_store.path) if test_store else None,
        n_items=len(y) + (len(y_test) if y_test is not None else 0),
        n_classes=len(np.unique(y)),
        label_names=train.label_names,
        split=split.description,
    )
    options = {
        "seed": seed,
        "device": device,
        "C": C,
        "k": k,
        "folds": folds,
        "confusion": confusion,
        "experiments": experiments,
        "samples_per_label": samples_per_label,
    }
    for name in names:
        result.results[name] = _run(name, X, y, split, options)
    return result


def _run(name: str, X: np.ndarray, y: np.ndarray, s: Split, o: dict[str, Any]) -> Any:
    """Run protocol ``name``; ``X, y`` = the whole first store, ``s`` = the train/test split."""
    seed, device = o["seed"], o["device"]
    if name == "linear":
        return linear_probe(
            s.X_train,
            s.y_train,
            s.X_test,
            s.y_test,
            C=o["C"],
            device=device,
            confusion=o["confusion"],
            seed=seed,
        )
    if name == "knn":
        return knn_probe(
            s.X_train, s.y_train, s.X_test, s.y_test, k=o["k"], device=device, seed=seed
        )
    if name == "kmeans":
        return kmeans_clustering(X, y, seed=seed)
    if name == "senteval":
        if s.given:
            return senteval_split(s.X_train, s.y_train, s.X_test, s.y_test, k=o["folds"])
        return senteval_cv(X, y, k=o["folds"])
    if name == "mteb":
        return mteb_classification(
            s.X_train,
            s.y_train,
            s.X_test,
            s.y_test,
            n_experiments=o["experiments"],
            samples_per_label=o["samples_per_label"],
            split=s.description,
        )
    return logme(X, np.unique(y, return_inverse=True)[1])


__all__ = [
    "PROTOCOLS",
    "ClusteringResult",
    "KNNResult",
    "LinearProbeResult",
    "MTEBResult",
    "ProbeResult",
    "SentEvalResult",
    "probe",
]
