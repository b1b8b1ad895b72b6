"""``load_dataset``: every supported source -> a ``datasets.Dataset``.

The result has an ``image`` (``datasets.Image``) or ``text`` column and, when known, a
``label`` (``ClassLabel``). The call's arguments are kept in the dataset's info
(:func:`source_spec`), so an embedding store can record and later reload its source.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import datasets

from reprlearn.data import images, text
from reprlearn.data.digits import load_digits_dataset
from reprlearn.errors import DataError

FORMATS = (
    "auto",
    "lines",
    "senteval",
    "trec",
    "sst2",
    "csv",
    "tsv",
    "jsonl",
    "parquet",
    "imagefolder",
)
NAMED_SPLITS = {"cifar10": ("train", "test")}
SPLIT_FILES = {
    "trec": {"train": "train_5500.label", "test": "TREC_10.label"},
    "sst2": {"train": "sentiment-train", "dev": "sentiment-dev", "test": "sentiment-test"},
}
_SPEC_KEY = "reprlearn_source"


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
) -> datasets.Dataset:
    """Load ``source`` as a Dataset with an ``image`` or ``text`` column (+ ``label``).

    Args:
        source: ``digits``; ``shapes`` (procedural images with known factors); ``cifar10``
            (found in ``data_dir`` / ``$REPRLEARN_DATA``); ``hf:NAME`` (hub, needs network);
            a folder (class subfolders of images, or one text file per class as SentEval's
            MR/CR/SUBJ/MPQA, or the TREC/SST2 folders); a file (``.txt`` one item per line,
            ``.csv``/``.tsv``/``.jsonl``/``.parquet`` tables or image Parquet, TREC
            ``*.label``, SST2 ``sentiment-*``).
        format: force a format (one of :data:`FORMATS`) instead of guessing from the name.
        text_column, label_column: columns of a table (defaults ``text`` and ``label``).
        encoding: text encoding (default UTF-8; TREC defaults to ISO-8859-1).
        split: ``train``/``test`` (``dev`` for SST2) for sources with splits; default
            ``test`` for cifar10, ``train`` for TREC/SST2 folders.
        data_dir: where named datasets (``cifar10``) live.
        fine_labels: TREC's 50 fine labels instead of the 6 coarse ones.
        n, seed: size and seed of generated datasets (``shapes``).

    Raises:
        DataError: unknown/missing source, bad encoding (names file and byte offset),
            missing columns (lists the existing ones).
    """
    spec = {k: v for k, v in locals().items() if v not in (None, False, "auto") and k != "seed"}
    if source.startswith("shapes"):
        spec["seed"] = seed
    if Path(source).exists():  # reloadable from any working directory
        spec["source"] = str(Path(source).resolve())
    if data_dir:
        spec["data_dir"] = str(Path(data_dir).resolve())
    ds = _dispatch(
        source, format, text_column, label_column, encoding, split, data_dir, fine_labels, n, seed
    )
    for column in ("text", "image"):
        if column in ds.column_names:
            break
    else:
        raise DataError(
            f"{source}: found no 'text' or 'image' column; columns are {ds.column_names}"
        )
    ds.info.description = json.dumps({_SPEC_KEY: spec})
    return ds


def source_spec(ds: datasets.Dataset) -> dict[str, Any] | None:
    """The ``load_dataset`` arguments that produced ``ds`` (None for other datasets)."""
    try:
        return json.loads(ds.info.description or "")[_SPEC_KEY]
    except (ValueError, KeyError, TypeError):
        return None


def _dispatch(source, fmt, text_column, label_column, encoding, split, data_dir, fine, n, seed):
    if fmt not in FORMATS:
        raise DataError(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if source == "digits":
        return load_digits_dataset()
    if source == "shapes" or source.startswith("shapes:"):
        from reprlearn.data.shapes import make_shapes

        size = source.partition(":")[2]
        if size and not size.isdigit():
            raise DataError(f"{source}: use shapes or shapes:N (N images), e.g. shapes:5000")
        return make_shapes(n=n or int(size or 10_000), seed=seed)
    if source.startswith("hf:"):
        return _load_hub(source[3:], split or "train")
    if source in NAMED_SPLITS:
        split = split or "test"
        if split not in NAMED_SPLITS[source]:
            raise DataError(f"{source} has splits {NAMED_SPLITS[source]}, not {split!r}")
        return images.load_image_parquet(images.find_named_dataset(source, data_dir, split))
    path = Path(source)
    if not path.exists():
        raise DataError(
            f"{source}: no such file or folder, and not a known name "
            f"(digits, shapes, cifar10, hf:NAME)"
        )
    if path.is_dir():
        return _load_folder(path, fmt, encoding, split, fine)
    return _load_file(path, fmt, text_column, label_column, encoding, fine)


def _guess_file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".label":
        return "trec"
    if path.name.startswith("sentiment-"):
        return "sst2"
    return {
        ".txt": "lines",
        ".csv": "csv",
        ".tsv": "tsv",
        ".jsonl": "jsonl",
        ".json": "jsonl",
        ".parquet": "parquet",
    }.get(suffix, "lines")


def _load_file(path, fmt, text_column, label_column, encoding, fine):
    fmt = _guess_file_format(path) if fmt == "auto" else fmt
    if fmt == "trec":
        return text.load_trec(path, encoding or "latin-1", fine)
    if fmt == "sst2":
        return text.load_sst2(path, encoding or "utf-8")
    if fmt == "lines":
        return text.load_lines(path, encoding or "utf-8")
    if fmt == "parquet" and text_column is None:
        import pyarrow.parquet as pq

        if "image" in pq.read_schema(path).names:
            return images.load_image_parquet(path, label_column or "label")
    return text.load_table(path, text_column, label_column, encoding or "utf-8")


def _load_folder(path: Path, fmt, encoding, split, fine):
    children = [p for p in path.iterdir() if not p.name.startswith(".")]
    names = {p.name for p in children}
    for kind, files in SPLIT_FILES.items():
        if fmt in ("auto", kind) and set(files.values()) & names:
            chosen = split or "train"
            if chosen not in files:
                raise DataError(f"{path}: splits are {list(files)}, not {chosen!r}")
            return _load_file(path / files[chosen], kind, None, None, encoding, fine)
    if fmt == "imagefolder" or (fmt == "auto" and any(p.is_dir() for p in children)):
        return images.load_image_folder(path)
    if fmt in ("auto", "senteval"):
        return text.load_class_files(path, encoding or "utf-8")
    raise DataError(f"{path}: a folder cannot be read as --format {fmt}")


def _load_hub(name: str, split: str) -> datasets.Dataset:
    try:
        return datasets.load_dataset(name, split=split)
    except Exception as e:  # offline, unknown id, gated
        raise DataError(
            f"hf:{name}: could not load from the Hugging Face hub ({type(e).__name__}: {e}). "
            "This needs network access; offline, download it elsewhere and pass a local "
            "file or folder instead"
        ) from None
