"""A classifier's confusion matrix made readable at any number of classes.

A 77 x 77 matrix drawn as an image is a diagonal and little else, so above
:data:`MANY_CLASSES` classes the useful views are tables: the **most confused pairs**
(true, predicted, count; off-diagonal cells sorted by count) and the **per-class
accuracy** (recall of each class) sorted worst first. Files written by
:func:`confusion_report`:

* ``confusion.png``: the matrix coloured by row share (each true class sums to 1) with a
  colour bar; counts in the cells up to 30 classes; labels never clipped;
* ``confusion.csv``: the full matrix of counts, rows = true class, columns = predicted;
* ``confused_pairs.csv`` and ``per_class_accuracy.csv``: the two tables (always written;
  the report shows them above :data:`MANY_CLASSES` classes).

Cells of the CSV files are made formula-safe (:func:`reprlearn.tables.write_csv`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from reprlearn.analysis.glyph_text import add_text, text_collection
from reprlearn.analysis.matrix_figure import (
    PAD,
    axis_labels,
    cell_values,
    cells,
    colour_bar,
    matrix_axes,
    widest,
)
from reprlearn.analysis.plots import save_cropped
from reprlearn.tables import write_csv

MANY_CLASSES = 20
CELL_TEXT_MAX = 30
AXIS_NAME_ROOM = 0.25  # inches for "true class" / "predicted class" beyond the labels


def _names(confusion: np.ndarray, class_names: Sequence[str] | None) -> list[str]:
    k = confusion.shape[0]
    names = [str(c) for c in class_names] if class_names is not None else []
    if len(names) != k:
        names = [str(i) for i in range(k)]
    return names


def most_confused_pairs(
    confusion: np.ndarray, class_names: Sequence[str] | None = None, top: int = 20
) -> list[dict[str, Any]]:
    """The ``top`` off-diagonal cells with the largest counts, largest first.

    Args:
        confusion: counts ``(k, k)``, rows = true class, columns = predicted.
        class_names: ``k`` names (default ``0..k-1``).
        top: most pairs returned (default 20); pairs with count 0 are never listed.

    Returns:
        dicts ``{"true", "predicted", "count", "share_of_true"}`` where ``share_of_true`` is
        the count over the true class's support (in [0, 1]). Ties: by true then predicted
        class index.
    """
    confusion = np.asarray(confusion)
    names = _names(confusion, class_names)
    support = confusion.sum(axis=1)
    off = confusion.astype(np.int64).copy()
    np.fill_diagonal(off, 0)
    i, j = np.nonzero(off)
    order = np.lexsort((j, i, -off[i, j]))[:top]
    return [
        {
            "true": names[i[o]],
            "predicted": names[j[o]],
            "count": int(off[i[o], j[o]]),
            "share_of_true": round(float(off[i[o], j[o]] / max(support[i[o]], 1)), 4),
        }
        for o in order
    ]


def per_class_accuracy(
    confusion: np.ndarray, class_names: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Accuracy (recall) of each true class, worst first.

    Args:
        confusion: counts ``(k, k)``, rows = true class.
        class_names: ``k`` names (default ``0..k-1``).

    Returns:
        dicts ``{"class", "accuracy", "correct", "support"}`` sorted by accuracy ascending
        (then by name); classes without test items have ``accuracy`` None and come last.
    """
    confusion = np.asarray(confusion)
    names = _names(confusion, class_names)
    support = confusion.sum(axis=1)
    rows = [
        {
            "class": names[c],
            "accuracy": round(float(confusion[c, c] / support[c]), 4) if support[c] else None,
            "correct": int(confusion[c, c]),
            "support": int(support[c]),
        }
        for c in range(len(names))
    ]
    return sorted(rows, key=lambda r: (r["accuracy"] is None, r["accuracy"] or 0.0, r["class"]))


def write_confusion_csv(
    confusion: np.ndarray, class_names: Sequence[str] | None, path: str | Path
) -> Path:
    """The full ``(k, k)`` matrix of counts as CSV: a ``true \\ predicted`` column with the
    true class, then one column per predicted class. Returns ``path``."""
    confusion = np.asarray(confusion)
    names = _names(confusion, class_names)
    corner = "true \\ predicted"
    header = [corner, *names]
    if len(set(header)) < len(header):  # duplicate names would merge columns
        header = [corner, *(f"{n} ({i})" for i, n in enumerate(names))]
    rows = [
        dict(zip(header, [names[i], *map(int, confusion[i])], strict=True))
        for i in range(len(names))
    ]
    return write_csv(rows, path, fieldnames=header)


def confusion_png(
    confusion: np.ndarray,
    class_names: Sequence[str] | None,
    path: str | Path,
    *,
    title: str = "linear probe confusion matrix",
) -> Path:
    """Draw the confusion matrix coloured by row share, with a colour bar.

    Counts are written in the cells up to :data:`CELL_TEXT_MAX` classes; labels shrink
    with the number of classes (8 pt up to 20 classes, down to 5 pt); the margins are
    measured from the labels, so the figure is drawn once and cropped to its ink
    (:func:`reprlearn.analysis.plots.save_cropped`) and no label is clipped. Labels,
    counts and cells as :mod:`reprlearn.analysis.matrix_figure` draws them (a 54-class
    matrix: 0.65 -> 0.2 s).

    Args:
        confusion: counts ``(k, k)``, rows = true class, columns = predicted.
        class_names: ``k`` names (default ``0..k-1``).
        path: the PNG to write.
        title: figure title.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    return save_cropped(confusion_figure(confusion, class_names, title=title), path)


def confusion_figure(
    confusion: np.ndarray,
    class_names: Sequence[str] | None,
    *,
    title: str = "linear probe confusion matrix",
) -> Figure:
    """The figure of :func:`confusion_png` (Agg canvas attached), with white room around
    it that :func:`reprlearn.analysis.plots.save_cropped` crops."""
    confusion = np.asarray(confusion)
    names = _names(confusion, class_names)
    k = len(names)
    share = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    side = float(np.clip(0.42 * k, 3.5, 16.0))
    font = 8.0 if k <= 20 else float(np.clip(240 / k, 5, 8))
    pad = 3.5 / 72  # inches from the matrix to a label
    left = bottom = PAD + AXIS_NAME_ROOM + widest(names, font) + pad  # same names both ways
    fig, ax = matrix_axes(left, bottom, side)
    colours = ScalarMappable(norm=Normalize(0.0, 1.0), cmap="Blues")
    rgba = colours.to_rgba(share, bytes=True)
    cells(ax, rgba)
    axis_labels(ax, fig, names, names, font, pad)
    add_text(fig, (left + side / 2, PAD), "predicted class", 9, ha="center", va="bottom")
    true = text_collection(fig, ["true class"], [(PAD, bottom + side / 2)], fig.dpi_scale_trans,
                           9, rotation=90, ha="center", va="top")  # fmt: skip
    true.set_clip_on(False)
    fig.add_artist(true)
    add_text(fig, (left, bottom + side + 8 / 72), title, 11, va="baseline")
    if k <= CELL_TEXT_MAX:
        rows, cols = np.nonzero(confusion)
        counts = [str(int(c)) for c in confusion[rows, cols]]
        cell_values(ax, counts, rows, cols, rgba, min(7.0, font))
    colour_bar(fig, colours, left, bottom, side, "share of the true class's items")
    return fig


def confusion_report(
    confusion: np.ndarray,
    class_names: Sequence[str] | None,
    out: str | Path,
    *,
    top: int = 20,
) -> dict[str, Any]:
    """Write ``confusion.png``, ``confusion.csv``, ``confused_pairs.csv`` and
    ``per_class_accuracy.csv`` to the folder ``out``; return what a report shows.

    Args:
        confusion: counts ``(k, k)``, rows = true class, columns = predicted.
        class_names: ``k`` names (default ``0..k-1``).
        out: an existing folder.
        top: most confused pairs listed (default 20).

    Returns:
        ``{"files": {name: path}, "many_classes": k > MANY_CLASSES, "confused_pairs":
        [...], "per_class_accuracy": [...]}`` (the two tables as in
        :func:`most_confused_pairs` and :func:`per_class_accuracy`). A report shows the
        tables when ``many_classes`` (the image alone is unreadable there).
    """
    out = Path(out)
    pairs = most_confused_pairs(confusion, class_names, top)
    accuracy = per_class_accuracy(confusion, class_names)
    files = {
        "confusion.png": str(confusion_png(confusion, class_names, out / "confusion.png")),
        "confusion.csv": str(write_confusion_csv(confusion, class_names, out / "confusion.csv")),
    }
    write_csv(
        pairs,
        out / "confused_pairs.csv",
        fieldnames=("true", "predicted", "count", "share_of_true"),
    )
    write_csv(
        accuracy,
        out / "per_class_accuracy.csv",
        fieldnames=("class", "accuracy", "correct", "support"),
    )
    files["confused_pairs.csv"] = str(out / "confused_pairs.csv")
    files["per_class_accuracy.csv"] = str(out / "per_class_accuracy.csv")
    return {
        "files": files,
        "many_classes": len(_names(np.asarray(confusion), class_names)) > MANY_CLASSES,
        "confused_pairs": pairs,
        "per_class_accuracy": accuracy,
    }
