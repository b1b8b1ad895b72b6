"""``load_dataset``: every supported source -> a ``datasets.Dataset``.

The result has an ``image`` (``datasets.Image``) or ``text`` column and, when known, a
``label`` (``ClassLabel``). The call's arguments are kept in the dataset's info
(:func:`source_spec`), so an embedding store can record and later reload its source.
Formats are guessed in :mod:`reprlearn.data.formats`, tables read in
:mod:`reprlearn.data.table`, images in :mod:`reprlearn.data.images`, line-based text in
:mod:`reprlearn.data.text`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import datasets

from reprlearn.data import images, text
from reprlearn.data.digits import load_digits_dataset
from reprlearn.data.encoding import check_encoding
from reprlearn.data.formats import (
    FORMATS,
    TABLE_FORMATS,
    check_format,
    check_not_binary,
    folder_has_images,
    guess_file_format,
)
from reprlearn.data.table import encode_labels, load_table, select_columns, table_columns
from reprlearn.errors import DataError

__all__ = ["FORMATS", "NAMED_SPLITS", "load_dataset", "source_columns", "source_spec"]

NAMED_SPLITS = {"cifar10": ("train", "test")}
SPLIT_FILES = {
    "trec": {"train": "train_5500.label", "test": "TREC_10.label"},
    "sst2": {"train": "sentiment-train", "dev": "sentiment-dev", "test": "sentiment-test"},
}
_SPEC_KEY = "reprlearn_source"
_COLUMNS_KEY = "reprlearn_columns"  # a table's own columns, for "needs labels" messages


def load_dataset(
    source: str,
    *,
    format: str = "auto",
    text_column: str | None = None,
    label_column: str | None = None,
    encoding: str | None = None,
    split: str | None = None,
    data_dir: str | None = None,
    fine_labels: bool = False,
    n: int | None = None,
    seed: int = 0,
    corruption: str | None = None,
) -> datasets.Dataset:
    """Load ``source`` as a Dataset with an ``image`` or ``text`` column (+ ``label``).

    Args:
        source: ``digits``; ``shapes`` (procedural images with known factors); ``cifar10``
            (found in ``data_dir`` / ``$REPRLEARN_DATA``); ``hf:NAME`` (hub, needs network);
            a folder (images in class subfolders: the label is the **first-level folder**
            under the root, however deep the image sits; images without subfolders:
            unlabelled; one text file per class as SentEval's MR/CR/SUBJ/MPQA; the
            TREC/SST2 folders); a file (``.txt`` one item per line, ``.csv``/``.tsv``/
            ``.jsonl``/``.parquet`` tables or image Parquet, TREC ``*.label``, SST2
            ``sentiment-*``; without an extension, Parquet, JSONL and TSV are recognised
            by their content).
        format: force a format (one of :data:`FORMATS`) instead of guessing from the name,
            e.g. ``csv`` for a ``.txt`` or extensionless file that holds a CSV table.
        text_column, label_column: columns of a table (defaults ``text`` and ``label``);
            an error for sources that are not tables (never silently ignored).
        encoding: text encoding (default: the byte-order mark's, e.g. UTF-16, else
            UTF-8; TREC defaults to ISO-8859-1).
        split: ``train``/``test`` (``dev`` for SST2) for sources with splits; default
            ``test`` for cifar10, ``train`` for TREC/SST2 folders.
        data_dir: where named datasets (``cifar10``) live.
        fine_labels: TREC's 50 fine labels instead of the 6 coarse ones.
        n, seed: size and seed of generated datasets (``shapes``).
        corruption: ``NAME:SEVERITY`` corrupts the images (a shifted test set), e.g.
            ``gaussian_noise:3``; see :mod:`reprlearn.data.corruptions`.

    Raises:
        DataError: unknown/missing source, unknown format or encoding, bytes that are not
            the encoding (names file and byte offset), an empty source, a malformed table
            row or JSON line (names the line), missing columns (lists the existing ones).
    """
    spec = {k: v for k, v in locals().items() if v not in (None, False, "auto") and k != "seed"}
    check_format(format)
    if encoding is not None:
        check_encoding(encoding)
    if source.startswith("shapes"):
        spec["seed"] = seed
    if Path(source).exists():  # reloadable from any working directory
        spec["source"] = str(Path(source).resolve())
    if data_dir:
        spec["data_dir"] = str(Path(data_dir).resolve())
    ds = _dispatch(
        source, format, text_column, label_column, encoding, split, data_dir, fine_labels, n, seed
    )
    if "text" not in ds.column_names and "image" not in ds.column_names:
        raise DataError(
            f"{source}: found no 'text' or 'image' column; columns are {ds.column_names}. "
            "Pass --text-column NAME for the text"
        )
    if ds.num_rows == 0:
        what = "the file is empty" if Path(source).is_file() else "the source is empty"
        raise DataError(f"{source}: no items ({what}); add items and rerun")
    if corruption is not None:  # a shifted (OOD) image test set, ImageNet-C style
        from reprlearn.data.corruptions import corrupt

        ds = corrupt(ds, corruption, seed=seed)
    info = {_SPEC_KEY: spec}
    if (columns := table_columns(ds)) is not None:
        info[_COLUMNS_KEY] = columns
    ds.info.description = json.dumps(info)
    return ds


def source_spec(ds: datasets.Dataset) -> dict[str, Any] | None:
    """The ``load_dataset`` arguments that produced ``ds`` (None for other datasets)."""
    try:
        return json.loads(ds.info.description or "")[_SPEC_KEY]
    except (ValueError, KeyError, TypeError):
        return None


def source_columns(ds: datasets.Dataset) -> list[str] | None:
    """All columns of the table file ``ds`` was read from (None when not a table)."""
    try:
        return list(json.loads(ds.info.description or "")[_COLUMNS_KEY])
    except (ValueError, KeyError, TypeError):
        return None


def _dispatch(source, fmt, text_column, label_column, encoding, split, data_dir, fine, n, seed):
    if split is not None and not _has_splits(source, fmt):
        raise DataError(
            f"{source}: --split {split} applies to sources with splits (cifar10, hf:NAME, the "
            "TREC and SST2 folders), and this one has none; drop --split, or pass the "
            "split's own file or folder"
        )
    if source == "digits":
        return _no_columns(load_digits_dataset(), source, text_column, label_column)
    if source == "shapes" or source.startswith("shapes:"):
        from reprlearn.data.shapes import make_shapes

        size = source.partition(":")[2]
        if size and not size.isdigit():
            raise DataError(f"{source}: use shapes or shapes:N (N images), e.g. shapes:5000")
        ds = make_shapes(n=n or int(size or 10_000), seed=seed)
        return _no_columns(ds, source, text_column, label_column)
    if source.startswith("hf:"):
        return _hub_columns(
            _load_hub(source[3:], split or "train"), source, text_column, label_column
        )
    if source in NAMED_SPLITS:
        split = split or "test"
        if split not in NAMED_SPLITS[source]:
            raise DataError(f"{source} has splits {NAMED_SPLITS[source]}, not {split!r}")
        path = images.find_named_dataset(source, data_dir, split)
        return images.load_image_parquet(path, label_column or "label")
    path = Path(source)
    if not path.exists():
        raise DataError(
            f"{source}: no such file or folder, and not a known name "
            f"(digits, shapes, cifar10, hf:NAME)"
        )
    if path.is_dir():
        ds = _load_folder(path, fmt, encoding, split, fine)
        return _no_columns(ds, source, text_column, label_column)
    return _load_file(path, fmt, text_column, label_column, encoding, fine)


def _has_splits(source: str, fmt: str) -> bool:
    if source.startswith("hf:") or source in NAMED_SPLITS:
        return True
    path = Path(source)
    if not path.is_dir():
        return False
    names = {p.name for p in path.iterdir()}
    return any(
        fmt in ("auto", kind) and set(files.values()) & names for kind, files in SPLIT_FILES.items()
    )


def _no_columns(ds, source, text_column, label_column) -> datasets.Dataset:
    """Sources that are not tables take text and labels from their layout: say so rather
    than silently ignoring ``--text-column``/``--label-column``."""
    for option, value in (("--text-column", text_column), ("--label-column", label_column)):
        if value:
            raise DataError(
                f"{source}: {option} {value} applies to tables (CSV, TSV, JSONL, Parquet), "
                f"and this source is not read as one; drop {option}, or pass "
                "--format csv/tsv/jsonl if the file is a table"
            )
    return ds


def _load_file(path, fmt, text_column, label_column, encoding, fine):
    fmt = guess_file_format(path) if fmt == "auto" else fmt
    if fmt != "parquet":
        check_not_binary(path)  # an Excel workbook or archive is named, not mis-decoded
    if fmt == "parquet" and text_column is None:
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(path).names
        except Exception as e:  # not Parquet at all, or a damaged file
            raise DataError(
                f"{path}: not a readable Parquet file ({e}); check the file or --format"
            ) from None
        if "image" in names:
            return images.load_image_parquet(path, label_column or "label")
    if fmt in TABLE_FORMATS:
        return load_table(path, fmt, text_column, label_column, encoding)
    if fmt == "trec":
        ds = text.load_trec(path, encoding, fine)  # latin-1 unless a BOM or --encoding
    elif fmt == "sst2":
        ds = text.load_sst2(path, encoding)
    elif fmt == "lines":
        ds = text.load_lines(path, encoding)
    else:
        raise DataError(
            f"{path}: --format {fmt} reads folders, and this is a file; pass its folder"
        )
    return _no_columns(ds, str(path), text_column, label_column)


def _load_folder(path: Path, fmt, encoding, split, fine):
    children = [p for p in path.iterdir() if not p.name.startswith(".")]
    names = {p.name for p in children}
    for kind, files in SPLIT_FILES.items():
        if fmt in ("auto", kind) and set(files.values()) & names:
            chosen = split or "train"
            if chosen not in files:
                raise DataError(f"{path}: splits are {list(files)}, not {chosen!r}")
            return _load_file(path / files[chosen], kind, None, None, encoding, fine)
    if fmt == "imagefolder" or (
        fmt == "auto" and (any(p.is_dir() for p in children) or folder_has_images(children))
    ):
        return images.load_image_folder(path)
    if fmt in ("auto", "senteval"):
        return text.load_class_files(path, encoding)
    raise DataError(
        f"{path}: a folder cannot be read as --format {fmt}; pass one of its files, or use "
        "--format imagefolder or senteval"
    )


def _hub_columns(ds, source, text_column, label_column) -> datasets.Dataset:
    """A hub dataset's text/label columns as ``text``/``label`` (labels as a ClassLabel,
    else an embedding store would drop them); image datasets keep their columns."""
    is_text = text_column or ("text" in ds.column_names and "image" not in ds.column_names)
    if is_text:
        ds, label_column = select_columns(
            ds, Path(source), "hub", text_column or "text", label_column
        )
    elif label_column and label_column != "label":
        if label_column not in ds.column_names:
            raise DataError(
                f"{source}: no column {label_column!r}; columns are {ds.column_names}. "
                "Pass --label-column NAME"
            )
        ds = ds.remove_columns([c for c in ("label",) if c in ds.column_names])
        ds = ds.rename_column(label_column, "label")
    if "label" in ds.column_names and not isinstance(ds.features["label"], datasets.ClassLabel):
        ds = encode_labels(ds, label_column or "label", Path(source), None)
    return ds


def _load_hub(name: str, split: str) -> datasets.Dataset:
    try:
        return datasets.load_dataset(name, split=split)
    except Exception as e:  # offline, unknown id, gated
        raise DataError(
            f"hf:{name}: could not load from the Hugging Face hub ({type(e).__name__}: {e}). "
            "This needs network access; offline, download it elsewhere and pass a local "
            "file or folder instead"
        ) from None
