"""Image sources: folders with one subfolder per class, and Parquet image datasets in the
Hugging Face hub layout (``image`` = struct{bytes, path}, ``label`` = int)."""

from __future__ import annotations

import os
from pathlib import Path

import datasets
import pyarrow.parquet as pq

from reprlearn.errors import DataError


def load_image_folder(folder: str | Path) -> datasets.Dataset:
    """``folder/<class>/<image>`` -> Dataset(image, label) through ``datasets``' imagefolder.

    Raises:
        DataError: the folder holds no images.
    """
    try:
        ds = datasets.load_dataset("imagefolder", data_dir=str(folder), split="train")
    except (ValueError, FileNotFoundError) as e:
        raise DataError(f"{folder}: no images found in class subfolders ({e})") from None
    return ds


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
        names = _class_names_from_paths(path, label_column)
        if names is None:
            n = max(ds[label_column]) + 1
            names = [str(i) for i in range(n)]
        ds = ds.cast_column(label_column, datasets.ClassLabel(names=names))
    if label_column != "label" and label_column in ds.column_names:
        ds = ds.rename_column(label_column, "label")
    return ds


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
