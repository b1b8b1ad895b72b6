"""Tables (CSV, TSV, JSON Lines, Parquet) -> ``Dataset(text, label?, origin?)``.

``datasets``' builders read the files; a check before names the file, line and fix for
what the builders report only as a traceback: an empty or header-only file, a row with
the wrong number of fields, a broken JSON line, a duplicated column name. CSV/TSV cells
are read as text (a text ``"42"`` stays a text, a label column mixing ``1`` and ``x``
stays one column; only empty cells are missing). CSV/TSV and JSONL rows get an
``origin`` column (``"file:line"``) so a bad item can be named.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import datasets

from reprlearn.data.encoding import read_text, resolve_encoding
from reprlearn.errors import DataError

SEPARATORS = {"csv": ",", "tsv": "\t"}
SEPARATOR_NAMES = {",": "commas", "\t": "a tab", ";": "semicolons"}
_COLUMNS_KEY = "reprlearn_columns"


def load_table(
    path: str | Path,
    fmt: str,
    text_column: str | None = None,
    label_column: str | None = None,
    encoding: str | None = None,
) -> datasets.Dataset:
    """A table -> Dataset(text, label?, origin?) via ``datasets``' csv/json/parquet builders.

    Args:
        fmt: ``csv``, ``tsv``, ``jsonl`` (also a JSON array) or ``parquet``, whatever the
            file's extension.
        text_column: the column holding the text (default ``text``).
        label_column: the label column (default ``label`` when present); labels become a
            ``ClassLabel`` with the sorted distinct values (as strings) as names.
        encoding: text encoding (default: the BOM's, else UTF-8).
    Raises:
        DataError: an empty or header-only file, a ragged row or broken JSON line (names
            the line), a missing column (lists the columns that exist), a label missing
            in some rows (names the first), a bad encoding.
    """
    path = Path(path)
    if fmt in SEPARATORS:
        ds, lines = _read_delimited(path, fmt, encoding)
    elif fmt == "jsonl":
        ds, lines = _read_json(path, encoding)
    elif fmt == "parquet":
        ds, lines = _build(path, "parquet", {}), None
    else:
        raise ValueError(f"not a table format: {fmt!r}")
    if ds.num_rows == 0:
        raise DataError(f"{path}: the table has columns {ds.column_names} but no rows; add rows")
    columns = list(ds.column_names)
    ds, label_column = select_columns(ds, path, fmt, text_column or "text", label_column)
    if label_column:
        ds = encode_labels(ds, label_column, path, lines)
    if lines is not None and len(lines) == ds.num_rows:
        ds = ds.add_column("origin", [f"{path}:{line}" for line in lines])
    ds.info.description = json.dumps({_COLUMNS_KEY: columns})
    return ds


def select_columns(ds, path: Path, fmt: str, text_column: str, label_column: str | None):
    """Keep the text and label columns, renamed ``text`` and ``label``; returns the
    dataset and the label column's original name (None when there is none).

    Raises:
        DataError: a missing column (lists the columns), text and label the same column.
    """
    columns = list(ds.column_names)
    sep = {"csv": ",", "tsv": "<TAB>"}.get(fmt)
    _require(ds, text_column, path, "--text-column", sep)
    if label_column:
        _require(ds, label_column, path, "--label-column", sep)
        if label_column == text_column:
            raise DataError(
                f"{path}: --text-column and --label-column both name {text_column!r}; the "
                f"columns are {columns}"
            )
    elif "label" in columns and text_column != "label":
        label_column = "label"
    ds = ds.select_columns([c for c in (text_column, label_column) if c])
    # via temporary names: --text-column body --label-column text swaps two names
    chosen = {text_column: "text", **({label_column: "label"} if label_column else {})}
    ds = ds.rename_columns({c: f"__reprlearn_{new}" for c, new in chosen.items()})
    ds = ds.rename_columns({f"__reprlearn_{new}": new for new in chosen.values()})
    return ds, label_column


def table_columns(ds: datasets.Dataset) -> list[str] | None:
    """The columns of the file a table dataset was read from (None for other sources)."""
    try:
        return list(json.loads(ds.info.description or "")[_COLUMNS_KEY])
    except (ValueError, KeyError, TypeError):
        return None


def _build(path: Path, builder: str, kwargs: dict[str, Any]) -> datasets.Dataset:
    try:
        return datasets.load_dataset(builder, data_files=str(path), split="train", **kwargs)
    except Exception as e:  # the builders wrap parser errors in DatasetGenerationError
        cause = e
        while cause.__cause__ is not None or cause.__context__ is not None:
            cause = cause.__cause__ or cause.__context__
        raise DataError(
            f"{path}: could not be read as {builder} ({type(cause).__name__}: {cause}); "
            "check the file, or pass the right --format"
        ) from None


def _where(path: Path, line: int) -> str:
    return f"{path}:{line}"


def _read_delimited(path: Path, fmt: str, encoding: str | None):
    """Check and read a CSV/TSV: every row has the header's number of fields."""
    encoding = resolve_encoding(path, encoding)
    content = read_text(path, encoding)
    sep = _separator(content, SEPARATORS[fmt])
    reader = csv.reader(content.splitlines(keepends=True), delimiter=sep)
    header: list[str] | None = None
    lines: list[int] = []  # the line each row starts on (a quoted cell may span lines)
    end = 0
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if not row or all(not cell.strip() for cell in row) and len(row) <= 1:
                continue  # blank lines are skipped, as pandas does
            if header is None:
                header = row
                _check_header(path, header, fmt)
                continue
            if len(row) != len(header):
                raise DataError(
                    f"{_where(path, start)}: row has {len(row)} fields, the header "
                    f"has {len(header)} ({', '.join(header)}); quote cells that contain "
                    f"{SEPARATOR_NAMES[sep]} or fix the row"
                    + (
                        "; is this a TSV? pass --format tsv"
                        if sep == "," and "\t" in row[0]
                        else ""
                    )
                )
            lines.append(start)
    except csv.Error as e:
        raise DataError(f"{_where(path, reader.line_num)}: not valid {fmt.upper()} ({e})") from None
    if header is None:
        raise DataError(f"{path}: the file is empty; expected a header line and rows")
    if not lines:
        raise DataError(
            f"{path}: only a header line ({', '.join(header)}), no rows; add rows below it"
        )
    features = datasets.Features({c: datasets.Value("string") for c in header})
    kwargs = {
        "sep": sep,
        "encoding": encoding,
        "features": features,
        "keep_default_na": False,  # "NA", "null", "None" are texts and labels, not missing
        "na_values": [""],
    }
    return _build(path, "csv", kwargs), lines


def _separator(content: str, sep: str) -> str:
    """``sep``, or ``;`` / tab when the header holds no ``sep`` but one of those (the
    CSV of a European-locale spreadsheet, a TSV named ``.csv``)."""
    first = next((line for line in content.splitlines() if line.strip()), "")
    if sep == "," and "," not in first:
        for other in (";", "\t"):
            if other in first:
                return other
    return sep


def _check_header(path: Path, header: list[str], fmt: str) -> None:
    seen: set[str] = set()
    for name in header:
        if not name.strip():
            raise DataError(
                f"{path}:1: the header has an empty column name ({header}); name every column"
            )
        if name in seen:
            raise DataError(f"{path}:1: column {name!r} appears twice in the header; rename one")
        seen.add(name)


def _read_json(path: Path, encoding: str | None):
    """Check and read JSON Lines (one object per line) or a JSON array of objects."""
    encoding = resolve_encoding(path, encoding)
    content = read_text(path, encoding)
    if not content.strip():
        raise DataError(f"{path}: the file is empty; expected one JSON object per line")
    lines: list[int] | None = []
    if content.lstrip().startswith("["):
        lines = None  # a JSON array: no line per record
        try:
            records = json.loads(content)
        except json.JSONDecodeError as e:
            raise DataError(
                f"{path}:{e.lineno}: not valid JSON ({e.msg}, column {e.colno})"
            ) from None
        if not all(isinstance(r, dict) for r in records):
            raise DataError(f'{path}: a JSON array must hold objects ({{"text": ...}})')
    else:
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                _no_single_object(path, content)
                raise DataError(
                    f"{path}:{number}: not valid JSON ({e.msg}, column {e.colno}); each line "
                    'must be one JSON object, e.g. {"text": "...", "label": "..."}'
                ) from None
            if not isinstance(record, dict):
                raise DataError(
                    f'{path}:{number}: expected a JSON object ({{"text": ...}}), got '
                    f"{type(record).__name__}"
                )
            lines.append(number)
    kwargs = {"encoding": encoding} if encoding != "utf-8" else {}
    return _build(path, "json", kwargs), lines


def _no_single_object(path: Path, content: str) -> None:
    """Raise for a whole file that is one (pretty-printed) JSON object, naming its keys."""
    try:
        whole = json.loads(content)
    except json.JSONDecodeError:
        return
    if isinstance(whole, dict):
        raise DataError(
            f"{path}: one JSON object with keys {list(whole)[:10]}, not JSON Lines; write one "
            "object per item per line, or a JSON array of objects"
        )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def encode_labels(ds: datasets.Dataset, column: str, path: Path, lines) -> datasets.Dataset:
    """The ``label`` column (read from ``column``) as a ClassLabel of its sorted distinct
    values as strings (``3.0`` -> ``"3"``); ``lines`` (file line per row) names rows.

    Raises:
        DataError: rows without a label (None or NaN); names the first.
    """
    if isinstance(ds.features["label"], datasets.ClassLabel):
        return ds
    missing = [i for i, v in enumerate(ds["label"]) if _missing(v)]
    if missing:
        first = missing[0]
        where = f"{path}: row {first}"
        if lines and len(lines) == ds.num_rows:
            where = f"{path}:{lines[first]} (row {first})"
        raise DataError(
            f"{where} has no value in label column {column!r} ({len(missing)} rows in all); "
            "fill them or drop those rows"
        )
    ds = ds.map(lambda r: {"label": _label_text(r["label"])}, features=_string_label(ds))
    return ds.class_encode_column("label")


def _label_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 3.0 from a float column is the class "3"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _string_label(ds: datasets.Dataset) -> datasets.Features:
    features = ds.features.copy()
    features["label"] = datasets.Value("string")
    return features


def _require(
    ds: datasets.Dataset, column: str, path: Path, option: str, sep: str | None = None
) -> None:
    """Raise a DataError listing the columns when ``column`` is absent (``sep``: a CSV/TSV
    whose first line is its header, which may be missing)."""
    if column in ds.column_names:
        return
    message = f"{path}: no column {column!r}; columns are {ds.column_names}"
    if sep:
        message += (
            f" (the first line is the header). Pass {option} NAME, or add a header line "
            f"such as text{sep}label if the file has none"
        )
    else:
        message += f". Pass {option} NAME"
    raise DataError(message)
