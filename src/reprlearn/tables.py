"""CSV files that are safe to open in a spreadsheet.

Labels and texts come from the user's data; a cell such as ``=HYPERLINK("http://x","y")``
written raw into a CSV is run as a formula by Excel, LibreOffice and Google Sheets
(CSV injection). Following OWASP's advice
(https://owasp.org/www-community/attacks/CSV_Injection), every string cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single
quote, so the spreadsheet shows it as text. Numbers (``-1.5``, ``+3``, ``1e-5``) are left
alone: they are not formulas, and a quote would turn them into text.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text.lower().lstrip("+-") not in ("inf", "nan", "infinity")


def safe_csv_cell(value: Any) -> Any:
    """``value`` made safe for a spreadsheet (OWASP CSV injection).

    A string that starts with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading ``'``
    (``'=HYPERLINK(...)``), unless it is a plain number such as ``"-1.5"``. Other values
    (numbers, None, ...) are returned unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _is_number(value):
        return "'" + value
    return value


def safe_csv_row(row: Sequence[Any] | Mapping[str, Any]) -> Any:
    """A row (list or dict) with :func:`safe_csv_cell` applied to every cell."""
    if isinstance(row, Mapping):
        return {k: safe_csv_cell(v) for k, v in row.items()}
    return [safe_csv_cell(v) for v in row]


def write_csv(
    data: Any,
    path: str | Path,
    *,
    fieldnames: Sequence[str] | None = None,
) -> Path:
    """Write a table to ``path`` as UTF-8 CSV with every string cell made safe
    (:func:`safe_csv_cell`), atomically (a temp file in the same folder, then a rename:
    a reader never sees half a file).

    Args:
        data: a pandas DataFrame (its index is not written), an iterable of dicts (columns
            = ``fieldnames``, default the first dict's keys, extra keys ignored), or an
            iterable of lists (the first is the header unless ``fieldnames`` is given).
        path: the file to write (its folder must exist).
        fieldnames: the columns, in order.
    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    header, rows = _rows(data, fieldnames)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            if header is not None:
                writer.writerow(safe_csv_row(header))
            for row in rows:
                writer.writerow(safe_csv_row(row))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _rows(data: Any, fieldnames: Sequence[str] | None):
    """(header or None, iterable of lists) for a DataFrame, dicts or lists."""
    if hasattr(data, "itertuples") and hasattr(data, "columns"):  # a pandas DataFrame
        header = list(fieldnames or data.columns)
        return header, (list(r) for r in data[header].itertuples(index=False, name=None))
    rows = iter(data)
    first = next(rows, None)
    if first is None:
        return (list(fieldnames) if fieldnames else None), iter(())
    if isinstance(first, Mapping):
        header = list(fieldnames or first.keys())
        return header, ([r.get(k) for k in header] for r in _chain(first, rows))
    if fieldnames is not None:
        return list(fieldnames), (list(r) for r in _chain(first, rows))
    return list(first), (list(r) for r in rows)


def _chain(first: Any, rest: Iterable[Any]):
    yield first
    yield from rest
