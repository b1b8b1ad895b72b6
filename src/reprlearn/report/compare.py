"""``compare``: embed a dataset with several encoders, inspect and probe each embedding
space, rank the encoders and write one report (the main job of reprlearn).

For each encoder: embed (cached under ``OUT/embeddings/``, reused on rerun), inspect
(similarity matrix, neighbours, 2-D map, geometry), probe (linear, kNN, k-means, MTEB,
LogME on the seeded stratified 80/20 split of :func:`reprlearn.probe`) and a
label-efficiency curve (linear probe at 1, 2, 5, 10, ... labels per class on the same
80% / 20% split; mean and std over repeats). Encoders are ranked by linear-probe
accuracy. Writes ``report.html`` (self-contained), ``results.json``, ``results.csv``,
``label_efficiency.png`` and one folder of plots per encoder.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from reprlearn.analysis.inspect import inspect
from reprlearn.data import load_dataset, require_labels
from reprlearn.embed import embed
from reprlearn.encoders import load_encoder
from reprlearn.evaluation.label_efficiency import label_efficiency
from reprlearn.evaluation.linear_probe import confusion_matrix_png
from reprlearn.evaluation.mteb import holdout_split
from reprlearn.evaluation.probe import TEST_FRACTION, probe
from reprlearn.report.conclusion import conclusion
from reprlearn.report.generative import generative_pictures
from reprlearn.report.html import write_html
from reprlearn.report.plots import label_efficiency_plot
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
class EncoderReport:
    """Everything measured for one encoder (accuracies in [0, 1])."""

    encoder: str
    dim: int
    items_per_s: float | None
    linear: dict[str, Any]
    knn: dict[str, Any]
    kmeans: dict[str, Any]
    mteb: dict[str, Any]
    logme: float
    geometry: dict[str, Any]
    neighbor_agreement: float
    neighbor_examples: list[dict[str, str]]
    label_efficiency: dict[str, Any]
    files: dict[str, str]

    @property
    def accuracy(self) -> float:
        return float(self.linear["accuracy"]["value"])

    def row(self, budgets: Sequence[int | str]) -> dict[str, Any]:
        """Flat fields for the ranking table, results.csv and the HTML page."""
        lin, knn = self.linear["accuracy"], self.knn["accuracy"]
        le = self.label_efficiency
        return {
            "encoder": self.encoder,
            "dim": self.dim,
            "linear_acc": lin["value"],
            "linear_ci_low": lin["ci_low"],
            "linear_ci_high": lin["ci_high"],
            "linear_text": _pm(lin),
            "knn_acc": knn["value"],
            "knn_text": _pm(knn),
            "nmi": self.kmeans["nmi"]["value"],
            "ari": self.kmeans["ari"]["value"],
            "mteb_acc": self.mteb["accuracy"]["value"],
            "logme": self.logme,
            "effective_rank": self.geometry["effective_rank"],
            "geometry_status": self.geometry["status"],
            "verdict": self.geometry["verdict"],
            "neighbor_agreement": self.neighbor_agreement,
            "neighbor_examples": self.neighbor_examples,
            "items_per_s": self.items_per_s,
            "label_efficiency_text": [
                f"{100 * a['value']:.1f} ± {100 * (a['std'] or 0):.1f}" for a in le["accuracy"]
            ],
            "files": self.files,
        }


@dataclass
class CompareResult:
    """The comparison: per-encoder reports ranked best first, and the conclusion."""

    source: str
    n_items: int
    n_classes: int
    budgets: list[int | str]
    ranking: list[EncoderReport]
    conclusion: str
    out: str
    seconds: float
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from reprlearn import __version__

        return {
            "source": self.source,
            "n_items": self.n_items,
            "n_classes": self.n_classes,
            "budgets": self.budgets,
            "conclusion": self.conclusion,
            "ranking": [r.row(self.budgets) for r in self.ranking],
            "details": {r.encoder: _details(r) for r in self.ranking},
            "protocol_note": f"probes on a seeded stratified {100 - int(100 * TEST_FRACTION)}/"
            f"{int(100 * TEST_FRACTION)} split; ± = half-width of the 95% bootstrap interval",
            "files": self.files,
            "seconds": round(self.seconds, 2),
            "out": self.out,
            "version": __version__,
        }

    def table(self) -> Table:
        """The ranking as a rich table."""
        table = Table(
            title=f"compare: {self.source} ({self.n_items} items, {self.n_classes} classes)"
        )
        for col in (
            "#",
            "encoder",
            "dim",
            "linear acc",
            "kNN acc",
            "NMI",
            "eff. rank",
            "LogME",
            "items/s",
        ):
            if col == "encoder":  # names like ckpt:runs/simclr wrap rather than get cut
                table.add_column(col, overflow="fold", min_width=12)
            else:
                table.add_column(col, justify="right")
        for i, r in enumerate(self.ranking):
            row = r.row(self.budgets)
            table.add_row(
                str(i + 1),
                r.encoder,
                str(r.dim),
                row["linear_text"],
                row["knn_text"],
                f"{row['nmi']:.3f}",
                f"{row['effective_rank']:.1f}",
                f"{r.logme:.3f}",
                f"{r.items_per_s:,.0f}" if r.items_per_s else "cached",
                style="bold green" if i == 0 else None,
            )
        return table


def _pm(score: dict[str, Any]) -> str:
    """``"95.3 ± 1.1"`` (percent) from a Score dict with a bootstrap interval or a std."""
    value = 100 * score["value"]
    if score.get("std") is not None:
        return f"{value:.1f} ± {100 * score['std']:.1f}"
    half = 100 * (score["ci_high"] - score["ci_low"]) / 2
    return f"{value:.1f} ± {half:.1f}"


def _details(r: EncoderReport) -> dict[str, Any]:
    return {
        "linear": r.linear,
        "knn": r.knn,
        "kmeans": r.kmeans,
        "mteb": r.mteb,
        "logme": r.logme,
        "geometry": r.geometry,
        "label_efficiency": r.label_efficiency,
    }


def _evaluate(
    store,
    name: str,
    source: str,
    enc_dir: Path,
    budgets,
    repeats: int,
    sample: int,
    projection: str,
    seed: int,
    device: str,
) -> EncoderReport:
    enc_dir.mkdir(parents=True, exist_ok=True)
    seen = inspect(store, enc_dir, sample=sample, projection=projection, seed=seed)
    result = probe(store, "all", seed=seed, device=device)
    details = result.to_dict()["protocols"]
    # keys without extension: "similarity", "map", "neighbors", "geometry", "inspect"
    files = {
        Path(k).stem: str(Path(v).relative_to(enc_dir.parent.parent)) for k, v in seen.files.items()
    }
    for key, path in generative_pictures(name, source, enc_dir).items():
        files[key] = str(path.relative_to(enc_dir.parent.parent))
    confusion = result.results["linear"].confusion
    if confusion is not None:
        path = confusion_matrix_png(confusion, store.label_names, enc_dir / "confusion.png")
        files["confusion"] = str(path.relative_to(enc_dir.parent.parent))
    X, y = store.to_numpy()
    Xa, Xb, ya, yb = holdout_split(X, y, test_size=TEST_FRACTION, seed=seed)  # probe's split
    le = label_efficiency(
        Xa, ya, Xb, yb, budgets=budgets, repeats=repeats, seed=seed, device=device
    )
    timing = store.manifest.get("timing", {})
    return EncoderReport(
        encoder=name,
        dim=store.dim,
        items_per_s=timing.get("items_per_s"),
        linear=details["linear"],
        knn=details["knn"],
        kmeans=details["kmeans"],
        mteb=details["mteb"],
        logme=float(details["logme"]),
        geometry=seen.geometry.to_dict(),
        neighbor_agreement=seen.agreement or 0.0,
        neighbor_examples=_neighbor_examples(seen.neighbors, 6),
        label_efficiency={**le.to_dict(), "labels_per_class": _budget_positions(le, ya)},
        files=files,
    )


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
                "neighbors": "; ".join(f"{r['neighbor_label']} ({r['cosine']:.2f})" for r in nbrs),
            }
        )
    return examples


def _budget_positions(le, y_train: np.ndarray) -> list[float]:
    """x positions of the budgets: the number itself, or the mean class size for "all"."""
    per_class = float(np.bincount(np.unique(y_train, return_inverse=True)[1]).mean())
    return [per_class if b == "all" else float(b) for b in le.budgets]


def compare(
    source: str = "digits",
    encoders: Sequence[str] | None = None,
    out: str | Path = "reports/digits",
    *,
    budgets: Sequence[int | str] = DEFAULT_BUDGETS,
    repeats: int = 5,
    sample: int = 20,
    projection: str = "pca",
    device: str = "auto",
    precision: str = "auto",
    seed: int = 0,
    progress: bool = True,
    **data_options: Any,
) -> CompareResult:
    """Compare encoders on one labelled dataset and write the report to ``out``.

    Args:
        source: anything :func:`reprlearn.load_dataset` reads (default ``digits``).
        encoders: encoder names (default: ``pixels``, ``pca:16``, ``random-projection:16``
            for images; ``tfidf``, ``lsa:128`` for text).
        out: the report folder (embeddings are cached in ``out/embeddings``).
        budgets: labels per class for the label-efficiency curve (ints and ``"all"``).
        repeats: draws per budget. sample: items in the similarity matrix.
        projection: ``pca`` (default), ``tsne`` or ``umap`` for the 2-D maps.
        device, precision: for neural encoders and the probes.
        seed: seeds splits, samples and repeats.
        **data_options: passed to :func:`reprlearn.load_dataset` (``text_column``, ...).

    Returns:
        A :class:`CompareResult` (``.table()``, ``.to_dict()``).

    Raises:
        DataError: the dataset has no labels (the probes need them) or a bad source.
    """
    start = time.perf_counter()
    out = Path(out)
    ds = load_dataset(source, **data_options)
    require_labels(ds, source, "compare")  # lists a table's columns, suggests --label-column
    modality = "image" if "image" in ds.column_names else "text"
    names = list(encoders or DEFAULT_ENCODERS[modality])
    reports = []
    for name in names:
        enc = load_encoder(name)
        store = embed(
            ds,
            enc,
            out / "embeddings" / slug(name),
            device=device,
            precision=precision,
            progress=progress,
        )
        reports.append(
            _evaluate(
                store,
                name,
                source,
                out / "encoders" / slug(name),
                budgets,
                repeats,
                sample,
                projection,
                seed,
                device,
            )
        )
    reports.sort(key=lambda r: -r.accuracy)
    curves = {
        r.encoder: {
            "labels_per_class": r.label_efficiency["labels_per_class"],
            "mean": [a["value"] for a in r.label_efficiency["accuracy"]],
            "std": [a["std"] or 0.0 for a in r.label_efficiency["accuracy"]],
        }
        for r in reports
    }
    label_efficiency_plot(curves, out / "label_efficiency.png", title=f"label efficiency: {source}")
    used_budgets = reports[0].label_efficiency["budgets"]
    result = CompareResult(
        source=source,
        n_items=ds.num_rows,
        n_classes=ds.features["label"].num_classes,
        budgets=used_budgets,
        ranking=reports,
        conclusion=conclusion(reports, used_budgets),
        out=str(out),
        seconds=time.perf_counter() - start,
        files={
            "label_efficiency": "label_efficiency.png",
            "report": "report.html",
            "results_json": "results.json",
            "results_csv": "results.csv",
        },
    )
    _write_outputs(result, out)
    return result


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
)


def _write_outputs(result: CompareResult, out: Path) -> None:
    data = result.to_dict()
    (out / "results.json").write_text(json.dumps(data, indent=1, default=str))
    write_csv(data["ranking"], out / "results.csv", fieldnames=_CSV_FIELDS)  # formula-safe
    write_html(data, out)
