"""The check that a dataset has labels, with an error that says where labels could be."""

from __future__ import annotations

import datasets

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
