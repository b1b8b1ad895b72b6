"""Image sources: folders with one subfolder per class, and Parquet image datasets in the
Hugging Face hub layout (``image`` = struct{bytes, path}, ``label`` = int)."""

from __future__ import annotations

import os
from pathlib import Path

import datasets
import pyarrow.parquet as pq

from reprlearn.errors import DataError


def load_image_folder(folder: str | Path) -> datasets.Dataset:
    """An image folder -> Dataset(image, label?) through ``datasets``' imagefolder.

    The label of an image is the **first-level folder** under ``folder`` that holds it,
    however deep it sits: ``folder/cat/indoor/1.png`` is a ``cat``. A folder whose images
    all lie at its top level (no class subfolders) is an unlabelled image dataset.
    Hidden files and folders are ignored, as imagefolder does.

    Raises:
        DataError: the folder holds no images, or holds images both at its top level and
            in subfolders (say which to use: move them into class folders).
    """
    folder = Path(folder)
    try:
        ds = datasets.load_dataset(
            "imagefolder", data_dir=str(folder), split="train", drop_labels=True
        )
    except (ValueError, FileNotFoundError) as e:
        raise DataError(
            f"{folder}: no images found (in the folder or its class subfolders) ({e})"
        ) from None
    if "image" not in ds.column_names:
        raise DataError(f"{folder}: no 'image' column; columns are {ds.column_names}")
    if "label" in ds.column_names:  # labels from a metadata.csv/jsonl beside the images
        if isinstance(ds.features["label"], datasets.ClassLabel):
            return ds
        return _class_labels(ds, folder / "metadata", "label")
    paths = [v["path"] for v in ds.cast_column("image", datasets.Image(decode=False))["image"]]
    classes = [_first_level(folder, p) for p in paths]
    top = [p for p, c in zip(paths, classes, strict=True) if c is None]
    if len(top) == len(paths):
        return ds  # a flat folder: unlabelled images
    if top:
        raise DataError(
            f"{folder}: {len(top)} images lie at the top level (e.g. {Path(top[0]).name}) and "
            f"{len(paths) - len(top)} in class subfolders; move the top-level images into a "
            "class subfolder (or out of the folder), so that every image has a label"
        )
    names = sorted(set(classes))
    index = {name: i for i, name in enumerate(names)}
    return ds.add_column(
        "label", [index[c] for c in classes], feature=datasets.ClassLabel(names=names)
    )


def _first_level(folder: Path, path: str) -> str | None:
    """The first folder of ``path`` below ``folder`` (None for a file at the top level)."""
    file = Path(path)
    for root, candidate in (
        (folder.absolute(), file.absolute()),
        (folder.resolve(), file.absolute()),
        (folder.resolve(), file.resolve()),
    ):
        if candidate.is_relative_to(root):
            parts = candidate.relative_to(root).parts
            return parts[0] if len(parts) > 1 else None
    raise DataError(f"{folder}: image {path} is not inside the folder; pass the folder itself")


def _class_names_from_paths(path: Path, labels_col: str) -> list[str] | None:
    """Class names from ``image.path`` values like ``"<class>/0001.jpg"``, index = label id."""
    try:
        table = pq.read_table(path, columns=["image.path", labels_col])
    except Exception:
        return None
    names: dict[int, str] = {}
    paths = table.column(0).to_pylist()
    for label, p in zip(table.column(1).to_pylist(), paths, strict=True):
        if p and "/" in p and label not in names:
            names[label] = p.split("/", 1)[0]
    if not names or sorted(names) != list(range(len(names))):
        return None
    return [names[i] for i in range(len(names))]


def load_image_parquet(path: str | Path, label_column: str = "label") -> datasets.Dataset:
    """A Parquet image dataset in the hub layout -> Dataset(image: Image, label: ClassLabel).

    Class names come from the Parquet's Hugging Face features when present, else from the
    folder part of ``image.path`` (``"cat/0001.jpg"``), else ``"0".."K-1"``.
    """
    path = Path(path)
    ds = datasets.load_dataset("parquet", data_files=str(path), split="train")
    if "image" not in ds.column_names:
        raise DataError(f"{path}: no 'image' column; columns are {ds.column_names}")
    if not isinstance(ds.features["image"], datasets.Image):
        ds = ds.cast_column("image", datasets.Image())
    if label_column in ds.column_names and not isinstance(
        ds.features[label_column], datasets.ClassLabel
    ):
        ds = _class_labels(ds, path, label_column)
    if label_column != "label" and label_column in ds.column_names:
        ds = ds.rename_column(label_column, "label")
    return ds


def _class_labels(ds: datasets.Dataset, path: Path, column: str) -> datasets.Dataset:
    """Integer ids 0..K-1 (named from ``image.path`` when possible) or strings -> ClassLabel.

    Raises:
        DataError: a row without a label (names the first), negative ids.
    """
    values = ds[column]
    missing = [i for i, v in enumerate(values) if v is None]
    if missing:
        raise DataError(
            f"{path}: row {missing[0]} has no value in label column {column!r} "
            f"({len(missing)} rows in all); fill them or drop those rows"
        )
    dtype = ds.features[column]
    if not (isinstance(dtype, datasets.Value) and dtype.dtype.startswith(("int", "uint"))):
        return ds.map(lambda r: {column: str(r[column])}).class_encode_column(column)
    if min(values) < 0:
        raise DataError(f"{path}: label column {column!r} holds negative ids ({min(values)})")
    names = _class_names_from_paths(path, column) or [str(i) for i in range(max(values) + 1)]
    return ds.cast_column(column, datasets.ClassLabel(names=names))


def find_named_dataset(name: str, data_dir: str | Path | None, split: str) -> Path:
    """Find ``<data_dir>/<name>/<split>.parquet`` (``data_dir`` or ``$REPRLEARN_DATA``).

    Raises:
        DataError: not found; lists where it looked and how to point to it.
    """
    roots = [Path(p) for p in (data_dir, os.environ.get("REPRLEARN_DATA")) if p]
    tried = []
    for root in roots:
        candidate = root / name / f"{split}.parquet"
        tried.append(str(candidate))
        if candidate.is_file():
            return candidate
    raise DataError(
        f"dataset {name!r} (split {split!r}) not found; looked at {', '.join(tried)}. "
        f"Pass --data-dir DIR (holding {name}/{split}.parquet) or set REPRLEARN_DATA"
    )
