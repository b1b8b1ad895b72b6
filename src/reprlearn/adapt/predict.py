"""``predict``: a finetune run folder + a source -> ``predictions.csv``, streamed in batches.

Columns: ``id`` (row of the source), ``prediction`` (label name), ``confidence`` (its
probability), then ``prob_<label>`` per class. Bad items raise naming the row, or with
``on_error="skip"`` are left out and counted. When the source has labels, the accuracy
against them is returned too.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from reprlearn.adapt.classifier import Classifier, load_classifier
from reprlearn.adapt.data import align_labels
from reprlearn.data.items import decode_item, describe_row, failure_reason
from reprlearn.data.labels import label_array
from reprlearn.data.load import source_spec
from reprlearn.errors import DataError
from reprlearn.evaluation.result import ResultMixin
from reprlearn.evaluation.statistics import Score, accuracy_with_ci
from reprlearn.progress import progress_bar
from reprlearn.tables import safe_csv_cell


@dataclass
class PredictResult(ResultMixin):
    """``out``: the CSV; ``n_predicted`` rows written; ``skipped``: ``[{"id", "reason"}]``;
    ``accuracy``: against the source's labels (None when it has none)."""

    out: Path
    n_predicted: int
    skipped: list[dict[str, Any]]
    accuracy: Score | None
    title = "predict"


def _check_column(ds: datasets.Dataset, clf: Classifier, source: str) -> str:
    column = clf.modality
    if column not in ds.column_names:
        raise DataError(
            f"{source} has no {column!r} column (columns: {ds.column_names}); the classifier "
            f"reads {column}: pass --{column}-column NAME"
        )
    return column


def predict(
    run: str | Path,
    source: str | datasets.Dataset,
    out: str | Path = "predictions.csv",
    *,
    source_options: dict[str, Any] | None = None,
    batch_size: int = 256,
    on_error: str = "raise",
    precision: str = "auto",
    device: str = "auto",
    progress: bool = True,
) -> PredictResult:
    """Classify every item of ``source`` with the classifier in ``run``; write ``out`` (CSV).

    Raises:
        StoreError: ``run`` is not a finetune run folder.
        DataError: a source missing the text/image column (lists the columns), a bad item
            (``on_error="raise"``), labels unseen in training.
    """
    from reprlearn.data.load import load_dataset

    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be raise or skip, not {on_error!r}")
    clf = load_classifier(run)
    ds = (
        source
        if isinstance(source, datasets.Dataset)
        else load_dataset(source, **(source_options or {}))
    )
    column = _check_column(ds, clf, str(source))
    names = getattr(ds.features.get("label"), "names", None)
    y = align_labels(label_array(ds), names, clf.label_names, str(source)) if names else None
    raw = ds.cast_column("image", datasets.Image(decode=False)) if column == "image" else ds
    spec = source_spec(ds)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    skipped: list[dict[str, Any]] = []
    kept_ids, preds = [], []
    header = ["id", "prediction", "confidence", *[f"prob_{n}" for n in clf.label_names]]
    with open(tmp, "w", newline="", encoding="utf-8") as f, progress_bar(
        "predict", total=ds.num_rows, enabled=progress
    ) as advance:  # fmt: skip
        writer = csv.writer(f)
        writer.writerow([safe_csv_cell(h) for h in header])
        for lo in range(0, ds.num_rows, batch_size):
            hi = min(ds.num_rows, lo + batch_size)
            ids, items = [], []
            for row, value in zip(range(lo, hi), raw[lo:hi][column], strict=True):
                try:
                    items.append(decode_item(value, column))
                    ids.append(row)
                except Exception as e:  # a corrupt image, an empty text
                    if on_error == "raise":
                        raise DataError(
                            f"{describe_row(raw, row, spec)}: {failure_reason(e)}. Fix it, or "
                            "pass --on-error skip to skip such items (they are counted)"
                        ) from None
                    skipped.append({"id": row, "reason": failure_reason(e)})
            if items:
                proba = clf.predict_proba(items, batch_size=batch_size, precision=precision,
                                          device=device)  # fmt: skip
                best = proba.argmax(1)
                for row, p, k in zip(ids, proba, best, strict=True):
                    writer.writerow([row, safe_csv_cell(clf.label_names[k]), f"{p[k]:.6f}",
                                     *(f"{v:.6f}" for v in p)])  # fmt: skip
                kept_ids += ids
                preds.append(best)
            advance(hi - lo)
    os.replace(tmp, out)
    pred = np.concatenate(preds) if preds else np.zeros(0, np.int64)
    accuracy = None
    if y is not None and len(pred):
        accuracy = accuracy_with_ci(y[np.asarray(kept_ids)], pred)
    return PredictResult(out, len(kept_ids), skipped, accuracy)
