"""``probe``: run evaluation protocols on an embedding store (the engine of ``reprlearn probe``).

Splits: with ``test`` (a second store of the same encoder), every protocol trains on
the first store and scores the second. Without it:

* ``linear``, ``knn``: a seeded stratified 80/20 split of the store; spread = 95%
  bootstrap interval over the 20% test items;
* ``mteb``: the same stratified 20% holdout as test (MTEB's 10 undersampled experiments
  on the 80%; spread = std over experiments);
* ``senteval``: SentEval's 10-fold inner-CV protocol (spread = std over folds);
* ``kmeans``, ``logme``: label-free clustering and label evidence measured on one set
  of items, not trained-then-scored: all items of the store, or (with ``test``) all items
  of the test store; ``ProbeResult.measured_on`` says which (spread of kmeans = std
  over seeds; LogME is deterministic).

``"all"`` runs linear, knn, kmeans, mteb and logme; ``senteval`` (600 logistic
regressions for 10x10 folds) runs only when asked for. ``protocol`` may also be a
comma-separated list (``"linear,knn"``) or a sequence of names.

Mostly-zero rows (TF-IDF, :mod:`reprlearn.evaluation.sparsity`) are viewed as CSR once,
split once, and every protocol takes the CSR rows (the same scores as the dense rows,
``tests/evaluation/test_fast_paths_pinned.py``; SentEval's scikit-learn fits take them as
CSR too, the same models up to rounding: see :mod:`reprlearn.evaluation.senteval`).
Before, each protocol built its own CSR view of a dense copy of its split.

Two stores must live in the same embedding space: a fitted encoder (``tfidf``, ``lsa``,
``pca``) fitted separately on each split gives two unrelated spaces, which
:func:`check_same_space` refuses (embed the test split with ``--fitted-from TRAIN``).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.markup import escape
from rich.table import Table

from reprlearn.errors import DataError, StoreError
from reprlearn.evaluation.clustering import ClusteringResult, kmeans_clustering
from reprlearn.evaluation.knn import KNNResult, knn_probe
from reprlearn.evaluation.linear_probe import LinearProbeResult, linear_probe
from reprlearn.evaluation.logme import logme
from reprlearn.evaluation.mteb import MTEBResult, holdout_indices, mteb_classification
from reprlearn.evaluation.result import fmt, jsonable, plain_text
from reprlearn.evaluation.senteval import SentEvalResult, senteval_cv, senteval_split
from reprlearn.evaluation.sparsity import sparse_split
from reprlearn.evaluation.statistics import Score
from reprlearn.store import EmbeddingStore, StoreSample

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
    test_ids: np.ndarray | None = None  # source row ids of the test items

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
    seconds: dict[str, float] = field(default_factory=dict)
    measured_on: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    test_ids: np.ndarray | None = field(default=None, repr=False)
    loaded: dict[str, Any] = field(default_factory=dict)  # store -> StoreSample.record()

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
            "measured_on": self.measured_on,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "notes": self.notes,
            "loaded": self.loaded,
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
        """Rich table: protocol, metric, score, spread (± std or [95% interval]) and the
        items each score is measured on."""
        table = Table(
            title=escape(f"probe: {self.encoder} ({self.n_items} items, {self.n_classes} classes)"),
            caption=escape("\n".join(self.notes)) or None,
        )
        for column in ("protocol", "metric", "score", "spread", "measured on"):
            table.add_column(column, justify="right" if column in ("score", "spread") else "left")
        for protocol, metric, score in self.summary():
            on = escape(str(self.measured_on.get(protocol, "")))
            if isinstance(score, Score):
                spread = (
                    f"± {fmt(score.std)}"
                    if score.std is not None
                    else f"[{fmt(score.ci_low)}, {fmt(score.ci_high)}]"
                    if score.ci_low is not None
                    else ""
                )
                table.add_row(protocol, metric, fmt(score.value), spread, on)
            else:
                table.add_row(protocol, metric, fmt(score), "", on)
        return table

    def __str__(self) -> str:
        """The table as plain text (``print(reprlearn.probe(...))``)."""
        return plain_text(self.table())


_MAIN: dict[str, Callable[[Any], list[tuple[str, Score | float]]]] = {
    "linear": lambda r: [("accuracy", r.accuracy), ("macro-F1", r.macro_f1)],
    "knn": lambda r: [(f"accuracy (k={r.k})", r.accuracy), ("macro-F1", r.macro_f1)],
    "kmeans": lambda r: [("V-measure", r.v_measure), ("NMI", r.nmi), ("ARI", r.ari)],
    "senteval": lambda r: [("accuracy", r.test)],
    "mteb": lambda r: [("accuracy", r.accuracy), ("macro-F1", r.f1)],
    "logme": lambda r: [("log evidence / sample", r)],
}


def _labelled(
    store: EmbeddingStore, max_rows: int | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, StoreSample]:
    """``(X, y, loaded)``: every row, or a seeded sample of ``max_rows`` on a larger store
    (:meth:`EmbeddingStore.load_bounded`), so probing a big store stays bounded in memory."""
    loaded = store.load_bounded(max_rows, seed)
    X, y = loaded.X, loaded.y
    if y is None or not store.has_labels:
        raise DataError(
            f"{store.path} has no labels: probing needs labels. Embed a labelled source "
            "(e.g. `reprlearn embed data.csv --label-column label ...`; image folders take "
            "labels from class subfolders) and probe that store"
        )
    return X, y, loaded


def _open(store: EmbeddingStore | str | Path) -> EmbeddingStore:
    return store if isinstance(store, EmbeddingStore) else EmbeddingStore.open(store)


def _state_digest(store: EmbeddingStore) -> str | None:
    """Hash of the fitted encoder state saved in ``store/encoder`` (arrays and config, not
    file bytes: ``np.savez`` stamps the time), or None when the encoder needs no fit."""
    folder = store.path / "encoder"
    if not (folder / "state.json").is_file():
        return None
    digest = hashlib.sha256((folder / "state.json").read_bytes())
    if (folder / "state.npz").is_file():
        with np.load(folder / "state.npz", allow_pickle=False) as arrays:
            for key in sorted(arrays.files):
                digest.update(key.encode())
                digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return digest.hexdigest()


def check_same_space(train: EmbeddingStore, test: EmbeddingStore) -> str | None:
    """None when ``train`` and ``test`` live in one embedding space, else why not.

    Uses :func:`reprlearn.store.same_space` when the store module has it; otherwise
    compares the fitted encoder states saved in the two stores (``STORE/encoder``): an
    encoder fitted separately on each split (``tfidf``, ``lsa:D``, ``pca:D``) maps the
    two splits into unrelated spaces, and scores across them are meaningless.
    """
    from reprlearn import store as store_module

    same_space = getattr(store_module, "same_space", None)
    if same_space is not None:
        return same_space(train, test)
    a, b = _state_digest(train), _state_digest(test)
    if a == b:
        return None
    return (
        f"{test.path} and {train.path} were embedded by {train.encoder_name!r} fitted "
        "separately on each, so they live in different embedding spaces; embed the test "
        f"split with the training store's fitted state: `reprlearn embed TEST --fitted-from "
        f"{train.path} --out {test.path} --overwrite`"
    )


def _check_pair(train: EmbeddingStore, test: EmbeddingStore) -> None:
    if train.encoder_name != test.encoder_name and not _fitted_from(test, train):
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
    if (why := check_same_space(train, test)) is not None:
        raise StoreError(why)


def _fitted_from(test: EmbeddingStore, train: EmbeddingStore) -> bool:
    """True when ``test`` was embedded with ``train``'s fitted state (``store:TRAIN``)."""
    source = test.manifest.get("fitted_from")
    if source is None:
        return False
    try:
        return Path(str(source)).resolve() == train.path.resolve()
    except OSError:
        return False


def _split(X, y, X_test, y_test, seed: int, ids=None, test_ids=None) -> Split:
    if X_test is not None:
        return Split(X, y, X_test, y_test, given=True, test_ids=test_ids)
    _, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        raise DataError(
            "a class has a single item: the 80/20 stratified split needs at least 2 per "
            "class; add items or pass a separate --test store"
        )
    a, b = holdout_indices(y, test_size=TEST_FRACTION, seed=seed)
    ids = np.arange(len(y)) if ids is None else np.asarray(ids)
    return Split(X[a], y[a], X[b], y[b], given=False, test_ids=ids[b])


def parse_protocols(protocol: str | Sequence[str]) -> tuple[str, ...]:
    """``"all"``, ``"linear"``, ``"linear,knn"`` or ``["linear", "knn"]`` -> protocol names.

    Raises:
        DataError: an unknown name (lists the known ones) or an empty list.
    """
    return parse_names(protocol, PROTOCOLS, ALL, "unknown protocol")


def parse_names(
    value: str | Sequence[str], known: Sequence[str], all_: Sequence[str], unknown_says: str
) -> tuple[str, ...]:
    """A comma-separated string or a sequence of names -> the distinct names in order;
    ``"all"`` expands to ``all_``. ``unknown_says`` starts the error message
    (``"unknown protocol"``).

    Raises:
        DataError: names not in ``known`` (lists them and ``known``) or an empty list.
    """
    parts = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for part in (str(p).strip() for p in parts):
        for name in all_ if part == "all" else (part,):
            if name and name not in names:
                names.append(name)
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise DataError(
            f"{unknown_says} {', '.join(map(repr, unknown)) or '(empty list)'}; choose "
            f"from {','.join(known)} (comma-separated) or all"
        )
    return tuple(names)


def check_options(
    *, k: int, C: float, folds: int, experiments: int, samples_per_label: int
) -> None:
    """Validate the numeric options of :func:`probe` before any work.

    Raises:
        DataError: ``k < 1``, ``C <= 0``, ``folds < 2``, ``experiments < 1`` or
            ``samples_per_label < 1`` (names the option and the accepted range).
    """
    checks = (
        ("--k", k, k >= 1, "a positive number of neighbours (DINO uses 20)"),
        ("--C", C, C > 0, "a positive inverse regularisation strength (default 1.0)"),
        ("--folds", folds, folds >= 2, "2 or more folds (SentEval uses 10)"),
        ("--experiments", experiments, experiments >= 1, "1 or more (MTEB uses 10)"),
        ("--samples-per-label", samples_per_label, samples_per_label >= 1, "1 or more (MTEB: 8)"),
    )
    for option, value, ok, want in checks:
        if not ok:
            raise DataError(f"{option} {value}: use {want}")


def _check_k(k: int, n_train: int, protocols: Sequence[str]) -> None:
    if "knn" in protocols and k > n_train:
        raise DataError(
            f"--k {k} is more than the {n_train} training items of the kNN probe; "
            f"choose --k between 1 and {n_train} (DINO uses 20)"
        )


@contextlib.contextmanager
def _no_stage(name: str) -> Iterator[None]:
    yield


def probe(
    store: EmbeddingStore | str | Path,
    protocol: str | Sequence[str] = "linear",
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
    stage: Callable[[str], AbstractContextManager[Any]] | None = None,
    max_rows: int | None = None,
) -> ProbeResult:
    """Evaluate the embeddings of ``store`` with one protocol or ``"all"``.

    Args:
        store: an :class:`EmbeddingStore` or its folder; must have labels.
        protocol: one of :data:`PROTOCOLS`, ``"all"``, or several (``"linear,knn"`` or a
            sequence); see the module doc for the splits.
        test: optional second store (same encoder, labels and fitted state) to score on.
        samples_per_label, experiments: MTEB's undersampling (8) and repetitions (10).
        seed: seeds the split, bootstrap, MTEB shuffles and k-means.
        C: linear-probe inverse L2 strength (1.0). k: kNN neighbours (20, DINO).
        folds: SentEval folds (10). device: torch device for the linear and kNN probes.
        confusion: keep the linear probe's confusion matrix.
        stage: optional context-manager factory wrapped around each protocol run, called
            with the protocol name, and around reading, checking and splitting the rows,
            called with ``"load"`` (``compare`` uses it to show progress and time).
        max_rows: rows loaded per store at most; a larger store is probed on a seeded
            uniform sample of this many rows (default :func:`reprlearn.store.default_max_rows`:
            1 GiB of float32 vectors, at most 1e6), recorded in ``loaded`` and the notes.

    Returns:
        A :class:`ProbeResult`; ``seconds`` holds each protocol's wall time (s).

    Raises:
        DataError: a store without labels, fewer than 2 classes, unknown protocol, a bad
            numeric option (``k`` above the training items included), checked before work.
        StoreError: the stores have different encoders, label names or fitted states.
    """
    names = parse_protocols(protocol)
    check_options(
        k=k, C=C, folds=folds, experiments=experiments, samples_per_label=samples_per_label
    )
    stage = stage or _no_stage
    with stage("load"):  # reading, checking and splitting the rows: timed as one stage
        train = _open(store)
        X, y, loaded = _labelled(train, max_rows, seed)
        X_test = y_test = test_loaded = None
        test_store = None
        if test is not None:
            test_store = _open(test)
            _check_pair(train, test_store)
            X_test, y_test, test_loaded = _labelled(test_store, max_rows, seed)
        if len(np.unique(y)) < 2:
            raise DataError(
                f"{train.path}: all items have the same label; probing needs 2 or more classes"
            )
        X, X_test = sparse_split(X, X_test)  # TF-IDF: one CSR for the split and every protocol
        test_ids = test_loaded.ids if test_loaded is not None else None
        split = _split(X, y, X_test, y_test, seed, loaded.ids, test_ids)
    _check_k(k, len(split.y_train), names)
    whole = "all items of the test store" if split.given else "all items"
    result = ProbeResult(
        encoder=train.encoder_name,
        store=str(train.path),
        test_store=str(test_store.path) if test_store else None,
        n_items=len(y) + (len(y_test) if y_test is not None else 0),
        n_classes=len(np.unique(y)),
        label_names=train.label_names,
        split=split.description,
        test_ids=split.test_ids,
    )
    for which, part in (("store", loaded), ("test_store", test_loaded)):
        if part is not None:
            result.loaded[which] = part.record()
            if part.note():
                result.notes.append(f"{which}: {part.note()}")
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
        start = time.perf_counter()
        with stage(name):
            result.results[name] = _run(name, X, y, split, options)
        result.seconds[name] = time.perf_counter() - start
        scored = f"train {len(split.y_train)} -> test {len(split.y_test)} ({split.description})"
        result.measured_on[name] = whole if name in ("kmeans", "logme") else scored
    if split.given and {"kmeans", "logme"} & set(names):
        result.notes.append(
            "k-means and LogME train no probe (k-means is label-free clustering, LogME a "
            "training-free label evidence): both are computed on the test store's items, not "
            "trained on one store and scored on the other."
        )
    return result


def _run(name: str, X: np.ndarray, y: np.ndarray, s: Split, o: dict[str, Any]) -> Any:
    """Run protocol ``name``; ``X, y`` = the whole first store, ``s`` = the train/test split
    (k-means and LogME use the test store when there is one, else all of ``X``)."""
    seed, device = o["seed"], o["device"]
    if s.given and name in ("kmeans", "logme"):
        X, y = s.X_test, s.y_test
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
    if name == "senteval":  # scikit-learn fits CSR rows (TF-IDF) sparse
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
    "check_same_space",
    "parse_protocols",
    "ClusteringResult",
    "KNNResult",
    "LinearProbeResult",
    "MTEBResult",
    "ProbeResult",
    "SentEvalResult",
    "probe",
]
