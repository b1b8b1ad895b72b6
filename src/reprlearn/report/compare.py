"""``compare``: embed a dataset with several encoders, inspect and probe each embedding
space, rank the encoders and write one report (the main job of reprlearn).

For each encoder: embed (cached under ``OUT/embeddings/``, reused on rerun), inspect
(similarity matrix, neighbours, 2-D map, geometry), probe (linear, kNN, k-means, MTEB,
LogME, as :func:`reprlearn.probe`) and a label-efficiency curve (linear probe at 1, 2,
5, 10, ... labels per class; mean and std over repeats). ``protocols`` chooses the
probes. Every stage shows its progress and time; ``results.json`` records the seconds.

Splits: with ``test`` (a second source, e.g. the test file of a dataset), each encoder
is fitted on ``source`` only, the test source is embedded in that same space (a fitted
encoder's state is reused through the ``store:TRAIN`` encoder), and every probe trains
on ``source`` and scores ``test``. Without it, the probes use the seeded stratified
80/20 split of ``source``.

Encoders are ranked by linear-probe accuracy (or kNN, or MTEB when the linear probe is
not run); whether the top two are tied comes from McNemar's exact test on the same test
items. Everything is checked before any work: encoder names (with a suggestion for a
typo), options, modality, optional libraries. Writes ``report.html`` (self-contained),
``results.json``, ``results.csv``, ``label_efficiency.png`` and one folder of plots per
encoder.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reprlearn.analysis.confusion import confusion_report
from reprlearn.analysis.inspect import inspect
from reprlearn.data import align_classes, load_dataset, require_labels
from reprlearn.embed import embed
from reprlearn.encoders import load_encoder
from reprlearn.encoders.base import Encoder
from reprlearn.encoders.registry import has_pretrained_weights
from reprlearn.evaluation.label_efficiency import label_efficiency
from reprlearn.evaluation.mteb import holdout_indices
from reprlearn.evaluation.probe import TEST_FRACTION, probe
from reprlearn.evaluation.sparsity import sparse_split
from reprlearn.outdir import prepare_out_dir, writer_lock
from reprlearn.report.checks import (
    PROBES,
    RANK_BY,
    check_modality,
    check_numbers,
    check_projection,
    check_split,
    encoder_names,
    parse_protocols,
)
from reprlearn.report.conclusion import conclusion
from reprlearn.report.generative import generative_pictures
from reprlearn.report.html import write_html
from reprlearn.report.plots import label_efficiency_plot
from reprlearn.report.result import CompareResult, EncoderReport
from reprlearn.report.stages import StageLog
from reprlearn.store import EmbeddingStore
from reprlearn.tables import write_csv

DEFAULT_ENCODERS = {
    "image": ["pixels", "pca:16", "random-projection:16"],
    "text": ["tfidf", "lsa:128"],
}
DEFAULT_BUDGETS: tuple[int | str, ...] = (1, 2, 5, 10, "all")


def slug(name: str) -> str:
    """A folder name for an encoder name: ``"st:BAAI/bge"`` -> ``"st-BAAI-bge"``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:80] or "encoder"


@dataclass
class _Plan:
    """The checked settings of one comparison."""

    protocols: tuple[str, ...]
    budgets: Sequence[int | str]
    repeats: int
    sample: int
    projection: str
    device: str
    precision: str
    seed: int
    progress: bool
    k: int = 20
    notes: tuple[str, ...] = ()

    @property
    def rank_by(self) -> str:
        return next(p for p in RANK_BY if p in self.protocols)


def _evaluate(
    name: str,
    source: str,
    store: EmbeddingStore,
    test_store: EmbeddingStore | None,
    enc_dir: Path,
    plan: _Plan,
    log: StageLog,
) -> EncoderReport:
    """Inspect and probe one encoder's store(s); every stage is timed by ``log``."""
    enc_dir.mkdir(parents=True, exist_ok=True)
    root = enc_dir.parent.parent
    with log(name, "inspect"):
        seen = inspect(store, enc_dir, sample=plan.sample, projection=plan.projection,
                       seed=plan.seed)  # fmt: skip
    # PNGs by stem ("map"), other files by name ("map.csv"): the two must not collide
    files = {(Path(k).stem if k.endswith(".png") else k): str(Path(v).relative_to(root))
             for k, v in seen.files.items()}  # fmt: skip
    for key, path in generative_pictures(name, source, enc_dir).items():
        files[key] = str(path.relative_to(root))
    probes = [p for p in plan.protocols if p in PROBES]
    result = probe(store, probes, test=test_store, seed=plan.seed, device=plan.device,
                   k=plan.k, stage=lambda p: log(name, p))  # fmt: skip
    protocols = result.to_dict()["protocols"]
    linear = result.results.get("linear")
    confusion = None
    if linear is not None and linear.confusion is not None:
        # colour bar, full matrix as CSV, most confused pairs and per-class accuracy
        with log(name, "confusion"):
            confusion = confusion_report(linear.confusion, store.label_names, enc_dir)
        for key, path in confusion["files"].items():
            files["confusion" if key == "confusion.png" else key] = str(
                Path(path).relative_to(root)
            )
    le = None
    if "label-efficiency" in plan.protocols:
        with log(name, "label-efficiency"):
            le = _label_efficiency(store, test_store, plan, linear)
    timing = store.manifest.get("timing", {})
    return EncoderReport(
        encoder=name,
        dim=store.dim,
        items_per_s=timing.get("items_per_s"),
        linear=protocols.get("linear"),
        knn=protocols.get("knn"),
        kmeans=protocols.get("kmeans"),
        mteb=protocols.get("mteb"),
        logme=float(protocols["logme"]) if "logme" in protocols else None,
        geometry=seen.geometry.to_dict(),
        neighbor_agreement=seen.agreement or 0.0,
        neighbor_examples=_neighbor_examples(seen.neighbors, plan.sample),
        label_efficiency=le,
        files=files,
        rank_by=plan.rank_by,
        seconds=log.seconds.get(name, {}),
        measured_on=result.measured_on,
        test_correct=linear.correct if linear is not None else None,
        test_ids=result.test_ids,
    )


def _label_efficiency(
    store: EmbeddingStore, test_store: EmbeddingStore | None, plan: _Plan, linear=None
) -> dict[str, Any]:
    """The label-efficiency curve on the probes' split (train -> test store, or the
    seeded stratified 80/20 split of :func:`reprlearn.probe`); budget "all" takes the
    accuracy of ``linear`` (the probes' linear probe, same split and C) when given."""
    X, y = store.to_numpy()
    if test_store is not None:
        (Xa, ya), (Xb, yb) = (X, y), test_store.to_numpy()
        Xa, Xb = sparse_split(Xa, Xb)
    else:
        X = sparse_split(X, None)[0]  # TF-IDF: split one CSR view, as probe does
        a, b = holdout_indices(y, test_size=TEST_FRACTION, seed=plan.seed)
        Xa, ya, Xb, yb = X[a], y[a], X[b], y[b]
    same = linear is not None and (linear.n_train, linear.n_test) == (len(ya), len(yb))
    le = label_efficiency(Xa, ya, Xb, yb, budgets=plan.budgets, repeats=plan.repeats,
                          seed=plan.seed, device=plan.device,
                          all_accuracy=linear.accuracy.value if same else None)  # fmt: skip
    return {**le.to_dict(), "labels_per_class": _budget_positions(le, ya)}


def _neighbor_examples(rows: list[dict[str, Any]], n: int) -> list[dict[str, str]]:
    """The first ``n`` sampled items with their neighbours, as short strings for the page."""
    by_item: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_item.setdefault(row["item_id"], []).append(row)
    examples = []
    for item_id, nbrs in list(by_item.items())[:n]:
        first = nbrs[0]
        examples.append(
            {
                "item": (first["item"] or f"#{item_id}")[:80],
                "label": str(first["label"]),
                "neighbors": "; ".join(_neighbor_text(r) for r in nbrs),
            }
        )
    return examples


def _neighbor_text(row: dict[str, Any]) -> str:
    """``label (cosine) "snippet"``: the neighbour itself (its text, or image file name),
    not only its label."""
    snippet = str(row.get("neighbor_item") or "")
    snippet = Path(snippet).name if snippet.startswith(("/", ".")) else snippet
    shown = f' "{snippet[:60]}{"…" if len(snippet) > 60 else ""}"' if snippet else ""
    return f"{row['neighbor_label']} ({row['cosine']:.2f}){shown}"


def _budget_positions(le, y_train: np.ndarray) -> list[float]:
    """x positions of the budgets: the number itself, or the mean class size for "all"."""
    per_class = float(np.bincount(np.unique(y_train, return_inverse=True)[1]).mean())
    return [per_class if b == "all" else float(b) for b in le.budgets]


def _embed_both(
    name: str,
    enc: Encoder,
    ds,
    ds_test,
    out: Path,
    plan: _Plan,
    log: StageLog,
) -> tuple[EmbeddingStore, EmbeddingStore | None]:
    """Embed the training source (fitting the encoder on it only) and the test source
    in the same space (``store:TRAIN`` reuses a fitted encoder's state)."""
    options = {"device": plan.device, "precision": plan.precision, "progress": plan.progress}
    with log(name, "embed", spinner=False):
        store = embed(ds, enc, out / "embeddings" / slug(name), **options)
    if ds_test is None:
        return store, None
    test_enc = load_encoder(f"store:{store.path}") if enc.requires_fit else enc
    with log(name, "embed_test", spinner=False):
        test_store = embed(ds_test, test_enc, out / "embeddings" / f"{slug(name)}--test", **options)
    return store, test_store


def _load_sources(
    source: str, test: str | None, data_options: dict[str, Any]
) -> tuple[Any, Any | None]:
    """The training dataset and the test dataset (same reading options; a named dataset
    given twice reads its ``test`` split the second time)."""
    ds = load_dataset(source, **data_options)
    require_labels(ds, source, "compare")
    if test is None:
        return ds, None
    test_options = dict(data_options)
    if test == source:
        test_options["split"] = "test"
    ds_test = load_dataset(test, **test_options)
    require_labels(ds_test, test, "compare --test")
    ds_test = align_classes(ds_test, ds.features["label"].names, test)
    return ds, ds_test


def compare(
    source: str = "digits",
    encoders: Sequence[str] | str | None = None,
    out: str | Path = "reports/digits",
    *,
    test: str | None = None,
    protocols: str | Sequence[str] = "all",
    budgets: Sequence[int | str] = DEFAULT_BUDGETS,
    repeats: int = 5,
    sample: int = 20,
    projection: str = "pca",
    device: str = "auto",
    precision: str = "auto",
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = True,
    random_weights: bool = False,
    **data_options: Any,
) -> CompareResult:
    """Compare encoders on one labelled dataset and write the report to ``out``.

    Args:
        source: anything :func:`reprlearn.load_dataset` reads (default ``digits``); the
            training data.
        encoders: encoder names, a list or a comma-separated string (default: ``pixels``,
            ``pca:16``, ``random-projection:16`` for images; ``tfidf``, ``lsa:128`` for text).
        out: the report folder (embeddings are cached in ``out/embeddings``; a rerun
            reuses them).
        test: a held-out labelled source with the same classes: fit on ``source``, score
            on ``test`` (default None: a seeded stratified 80/20 split of ``source``).
        protocols: ``"all"`` or some of linear, knn, kmeans, mteb, logme,
            label-efficiency (comma-separated or a list); one of linear/knn/mteb ranks.
        budgets: labels per class for the label-efficiency curve (ints and ``"all"``).
        repeats: draws per budget (>= 1). sample: items in the similarity matrix (>= 2).
        projection: ``pca`` (default), ``tsne`` or ``umap`` for the 2-D maps.
        device, precision: for neural encoders and the probes.
        seed: seeds splits, samples and repeats.
        overwrite: replace an existing report folder (only one reprlearn wrote; never the
            working directory, its parents or the home folder).
        progress: show progress bars and each stage with its time.
        random_weights: encoders of pretrained families (timm, torchvision, hf, st,
            open_clip) with random weights (named ``... (random weights)``); other
            families as usual.
        **data_options: passed to :func:`reprlearn.load_dataset` (``text_column``, ...).

    Returns:
        A :class:`CompareResult` (``.table()``, ``.to_dict()``, ``print(result)``).

    Raises:
        DataError: a bad option, an empty or duplicate encoder list, an encoder for the
            other modality, a source without labels, train and test with other classes
            (all checked before any work).
        ValueError: an unknown encoder name (with the closest names as a suggestion).
        ImportError: a missing optional library (an encoder's, or umap-learn).
        OutputError: ``out`` holds files reprlearn did not write, or is being written.
    """
    start = time.perf_counter()
    plan = _Plan(parse_protocols(protocols), list(budgets), repeats, sample, projection,
                 device, precision, seed, progress)  # fmt: skip
    check_numbers(repeats=repeats, sample=sample, budgets=plan.budgets)
    check_projection(projection)
    names = encoder_names(encoders)
    ds, ds_test = _load_sources(source, test, data_options)
    plan.k, note = check_split(ds, ds_test, source, plan.k)
    plan.notes = (note,) if note else ()
    modality = "image" if "image" in ds.column_names else "text"
    loaded = {}
    for name in names or DEFAULT_ENCODERS[modality]:
        enc = load_encoder(name, random_weights=random_weights and has_pretrained_weights(name))
        loaded[enc.name] = enc
    check_modality(loaded, ds.column_names, source)
    out = prepare_out_dir(out, kind="report", overwrite=overwrite)
    log = StageLog(progress)
    with writer_lock(out):
        reports = []
        for name, enc in loaded.items():
            store, test_store = _embed_both(name, enc, ds, ds_test, out, plan, log)
            reports.append(
                _evaluate(
                    name, source, store, test_store, out / "encoders" / slug(name), plan, log
                )  # fmt: skip
            )
        result = _result(reports, source, test, ds, ds_test, out, plan)
        result.seconds = time.perf_counter() - start
        _write_outputs(result, out)
    return result


def _result(reports, source, test, ds, ds_test, out: Path, plan: _Plan) -> CompareResult:
    reports.sort(key=lambda r: -r.accuracy)
    budgets: list[int | str] = []
    notes: list[str] = list(plan.notes)
    files = {"report": "report.html", "results_json": "results.json", "results_csv": "results.csv"}
    if "label-efficiency" in plan.protocols:
        curves = {
            r.encoder: {
                "labels_per_class": r.label_efficiency["labels_per_class"],
                "mean": [a["value"] for a in r.label_efficiency["accuracy"]],
                "std": [a["std"] or 0.0 for a in r.label_efficiency["accuracy"]],
            }
            for r in reports
        }
        label_efficiency_plot(curves, out / "label_efficiency.png",
                              title=f"label efficiency: {Path(source).name or source}")  # fmt: skip
        files["label_efficiency"] = "label_efficiency.png"
        budgets = reports[0].label_efficiency["budgets"]
        notes += list(dict.fromkeys(reports[0].label_efficiency.get("notes", [])))
    if test is not None:
        note = (f"probes fitted on {source} ({ds.num_rows} items) and scored on {test} "
                f"({ds_test.num_rows} items); k-means and LogME describe {test}")  # fmt: skip
    else:
        note = (f"probes on a seeded stratified {100 - int(100 * TEST_FRACTION)}/"
                f"{int(100 * TEST_FRACTION)} split of {source}")  # fmt: skip
    note += "; ± = half-width of the 95% bootstrap interval; ties by McNemar's exact test"
    return CompareResult(
        source=source,
        n_items=ds.num_rows,
        n_classes=ds.features["label"].num_classes,
        budgets=budgets,
        ranking=reports,
        conclusion=conclusion(reports, budgets),
        out=str(out),
        seconds=0.0,
        files=files,
        test=test,
        n_test=ds_test.num_rows if ds_test is not None else None,
        protocols=list(plan.protocols),
        protocol_note=note,
        notes=notes,
    )


_CSV_FIELDS = (
    "encoder",
    "dim",
    "linear_acc",
    "linear_ci_low",
    "linear_ci_high",
    "knn_acc",
    "nmi",
    "ari",
    "mteb_acc",
    "logme",
    "effective_rank",
    "geometry_status",
    "neighbor_agreement",
    "items_per_s",
    "embed_seconds",
    "eval_seconds",
)


def _write_outputs(result: CompareResult, out: Path) -> None:
    data = result.to_dict()
    (out / "results.json").write_text(json.dumps(data, indent=1, default=str))
    write_csv(data["ranking"], out / "results.csv", fieldnames=_CSV_FIELDS)  # formula-safe
    write_html(data, out)


__all__ = ["CompareResult", "EncoderReport", "compare", "slug"]
