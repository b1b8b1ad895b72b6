"""Labels: the check that a dataset has them (with an error that says where labels could
be), and matching a second source's classes to the training classes by name."""

from __future__ import annotations

from collections.abc import Callable

import datasets
import numpy as np

from reprlearn.data.load import source_columns, source_spec
from reprlearn.errors import DataError


def require_labels(ds: datasets.Dataset, source: str, needed_for: str) -> None:
    """Do nothing when ``ds`` has a ``label`` column, else raise a :class:`DataError`.

    The message names the source and what needs labels; for a table it lists the file's
    columns and suggests ``--label-column`` with a likely one, else it says which
    layouts carry labels (class subfolders, one file per class, a table's column).

    Args:
        ds: a dataset from :func:`reprlearn.load_dataset`.
        source: the source as the user wrote it (for the message).
        needed_for: what needs labels, e.g. ``"compare"`` or ``"the linear probe"``.
    Raises:
        DataError: no ``label`` column.
    """
    if "label" in ds.column_names:
        return
    columns = source_columns(ds)
    if columns is not None:
        spec = source_spec(ds) or {}
        text = spec.get("text_column", "text")
        others = [c for c in columns if c != text]
        hint = f" (e.g. --label-column {others[0]})" if others else ""
        raise DataError(
            f"{source} has no labels ({needed_for} needs labels): the table has no 'label' "
            f"column; its columns are {columns}. Pass --label-column NAME{hint}"
        )
    raise DataError(
        f"{source} has no labels ({needed_for} needs labels): use a table (CSV, TSV, JSONL, "
        "Parquet) with --label-column NAME, a folder with one subfolder of images per "
        "class, or a folder with one text file per class"
    )


def align_classes(ds: datasets.Dataset, train_names: list[str], where: str) -> datasets.Dataset:
    """``ds`` with its labels re-numbered onto the training classes ``train_names``.

    Two files of one dataset read separately can name different class lists: a test file
    that lacks a rare class numbers the others differently. Labels are matched by name,
    so label id ``i`` means ``train_names[i]`` in both.

    Args:
        ds: a labelled dataset from :func:`reprlearn.load_dataset` (``ClassLabel`` labels).
        train_names: the training dataset's class names, index = label id.
        where: the source as the user wrote it (for the message).
    Returns:
        ``ds`` itself when the names already agree, else a copy with a ``label`` column of
        ``ClassLabel(names=train_names)``.
    Raises:
        DataError: ``ds`` has items of classes the training data lacks (lists them).
    """
    names = list(getattr(ds.features["label"], "names", None) or [])
    if names == list(train_names):
        return ds
    y = map_label_ids(ds["label"], names, train_names, lambda unseen: (
        f"{where} has items of classes the training data lacks: {unseen[:10]} (training "
        f"classes: {list(train_names)[:20]}); drop those rows, or train on data that has them"))  # fmt: skip
    aligned = ds.remove_columns("label").add_column("label", y.tolist())
    return aligned.cast_column("label", datasets.ClassLabel(names=list(train_names)))


def map_label_ids(y, names: list[str], train_names: list[str],
                  unseen_message: Callable[[list[str]], str]) -> np.ndarray:  # fmt: skip
    """Label ids ``y`` ``(n,)`` of a source whose classes are ``names``, re-numbered by name
    onto ``train_names``: int64 ``(n,)``. ``y`` itself when both lists agree.

    Raises:
        DataError: ``y`` holds classes missing from ``train_names``; the message is
            ``unseen_message(sorted unseen names)``.
    """
    y = np.asarray(y, dtype=np.int64)
    if list(names) == list(train_names):
        return y
    index = {n: i for i, n in enumerate(train_names)}
    unseen = sorted({names[int(v)] for v in np.unique(y)} - set(index))
    if unseen:
        raise DataError(unseen_message(unseen))
    return np.array([index.get(n, -1) for n in names], dtype=np.int64)[y]


def label_array(ds: datasets.Dataset, column: str = "label") -> np.ndarray:
    """``(n,)`` values of ``column`` (the integer label ids by default) in the dataset's row
    order, read as one Arrow column: ``np.asarray(ds["label"])`` iterates a ``datasets``
    column row by row (0.27 s for CIFAR-10's 10,000 test labels, against 0.02 s here)."""
    return ds.select_columns([column]).with_format("arrow")[column].to_numpy()
