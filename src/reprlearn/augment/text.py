"""``augment_text``: new training sentences by EDA or back-translation, as a table
(``id``, ``source_id``, ``text``, ``label``, ``method``) written to CSV or Parquet.

Each new row keeps its original's label and names it in ``source_id`` (the original's row
number in the source); originals are rows with ``method = "original"`` and ``source_id =
id`` of themselves, unless ``only_new``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import pandas as pd

from reprlearn.augment.eda import OPERATIONS, check_eda_options
from reprlearn.errors import DataError, ReprlearnError

METHODS = ("eda", "backtranslate")
COLUMNS = ["id", "source_id", "text", "label", "method"]
SUFFIXES = (".csv", ".parquet")


@dataclass
class AugmentTextResult:
    """What :func:`augment_text` made.

    Attributes:
        table: ``(rows, 5)`` DataFrame with :data:`COLUMNS`. counts: what the method did
            (originals, empty/one-word/no-synonym texts, new rows per operation).
        out: the file written, or None. options: the method and its parameters.
    """

    table: pd.DataFrame
    counts: dict[str, Any]
    out: Path | None
    options: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """JSON-ready: rows, counts, options and the output file."""
        return {"rows": len(self.table), "counts": self.counts, "options": self.options,
                "out": None if self.out is None else str(self.out)}  # fmt: skip


def check_method(method: str) -> str:
    """``method`` lower-cased when it is one of :data:`METHODS`.

    Raises:
        ReprlearnError: an unknown method (the message lists eda and backtranslate).
    """
    m = method.strip().lower()
    if m not in METHODS:
        raise ReprlearnError(f"unknown text augmentation method {method!r}: choose eda or "
                             "backtranslate")  # fmt: skip
    return m


def check_out_file(out: str | Path, overwrite: bool) -> Path:
    """``out`` as a Path when it can be written: a ``.csv`` or ``.parquet`` file, new or
    (with ``overwrite``) an existing file.

    Raises:
        ReprlearnError: another suffix, a folder, an existing file without ``overwrite``.
    """
    path = Path(out)
    if path.suffix.lower() not in SUFFIXES:
        raise ReprlearnError(f"--out {out}: write a .csv or .parquet file")
    if path.is_dir():
        raise ReprlearnError(f"--out {out} is a folder: give a .csv or .parquet file name")
    if path.exists() and not overwrite:
        raise ReprlearnError(f"{out} exists: pass --overwrite to replace it, or another --out")
    if not path.parent.exists():
        raise ReprlearnError(f"--out {out}: the folder {path.parent} does not exist")
    return path


def _texts_and_labels(ds: datasets.Dataset, where: str) -> tuple[list[str], list[Any]]:
    if "text" not in ds.column_names:
        kind = "images" if "image" in ds.column_names else f"columns {ds.column_names}"
        raise DataError(
            f"{where}: augment-text takes texts, and this source has {kind}; for images use "
            "`reprlearn augment` (preview) or `finetune --augment`; for a table name the "
            "text column with --text-column"
        )
    texts = ["" if t is None else str(t) for t in ds["text"]]
    if "label" not in ds.column_names:
        return texts, [None] * len(texts)
    feature = ds.features["label"]
    raw = ds["label"]
    if isinstance(feature, datasets.ClassLabel):
        return texts, [None if v is None or v < 0 else feature.int2str(int(v)) for v in raw]
    return texts, list(raw)


def new_rows(
    texts: Sequence[str],
    *,
    method: str = "eda",
    n: int = 4,
    alpha: float = 0.1,
    operations: Sequence[str] = OPERATIONS,
    via: str | Sequence[str] | None = None,
    seed: int = 0,
    batch_size: int = 32,
    device: str = "auto",
    precision: str = "auto",
) -> tuple[list[tuple[int, str, str]], dict[str, Any]]:
    """The new sentences of ``method`` for ``texts``: ``[(source_index, text, method), ...]``
    (``method`` is ``eda:sr`` ... ``eda:rd`` or ``backtranslate``) and the counts.

    Raises:
        ReprlearnError: an unknown method or a bad option of it.
    """
    method = check_method(method)
    if method == "eda":
        from reprlearn.augment.eda import eda

        rows, counts = eda(texts, n=n, alpha=alpha, operations=operations, seed=seed)
        return [(i, t, f"eda:{op}") for i, t, op in rows], counts.to_dict()
    from reprlearn.augment.backtranslate import back_translate

    rows, bt = back_translate(texts, via=via, n=n, batch_size=batch_size, device=device,
                              precision=precision, seed=seed)  # fmt: skip
    return rows, bt.to_dict()


def augment_text(
    source: str | datasets.Dataset | Sequence[str],
    *,
    method: str = "eda",
    n: int = 4,
    alpha: float = 0.1,
    operations: Sequence[str] = OPERATIONS,
    via: str | Sequence[str] | None = None,
    only_new: bool = False,
    seed: int = 0,
    out: str | Path | None = None,
    overwrite: bool = False,
    source_options: dict[str, Any] | None = None,
    batch_size: int = 32,
    device: str = "auto",
    precision: str = "auto",
) -> AugmentTextResult:
    """New training sentences for ``source`` by EDA (Wei & Zou 2019) or back-translation.

    Args:
        source: a text source of :func:`reprlearn.load_dataset` (SentEval folder, CSV...,
            with ``source_options`` such as ``{"text_column": "review"}``), a Dataset with a
            ``text`` column, or a list of strings.
        method: ``eda`` | ``backtranslate``.
        n: new sentences per original (default 4; fewer when EDA cannot change a text).
        alpha: EDA's share of words changed, in (0, 1] (default 0.1).
        operations: EDA's operations, any of ``sr``, ``ri``, ``rs``, ``rd`` (default all).
        via: back-translation's two models ``"SRC2PIVOT,PIVOT2SRC"``
            (:data:`~reprlearn.augment.backtranslate.DEFAULT_VIA` when None).
        only_new: leave the originals out of the table.
        seed: the random seed (same seed, same sentences).
        out: a ``.csv`` (formula-safe cells) or ``.parquet`` file to write, or None.
        overwrite: replace an existing ``out`` file.
        batch_size, device, precision: back-translation's batching, device and precision
            (``auto``: bf16 where fast).
    Returns:
        :class:`AugmentTextResult`: the table ``(originals + new rows, 5)``, counts, file.
    Raises:
        ReprlearnError: an unknown method, ``alpha`` outside (0, 1], ``n`` < 1, an unknown
            EDA operation, a bad ``out``, back-translation models that cannot be loaded.
        DataError: a source without texts (images, a missing text column: the message
            names the columns).
    """
    method = check_method(method)
    ops = check_eda_options(alpha, n, operations) if method == "eda" else tuple(operations)
    if n < 1:
        raise ReprlearnError(f"--n {n}: the number of new sentences per original must be >= 1")
    path = check_out_file(out, overwrite) if out is not None else None
    if isinstance(source, (str, os.PathLike, datasets.Dataset)):
        if isinstance(source, datasets.Dataset):
            ds = source
        else:
            from reprlearn.data import load_dataset

            ds = load_dataset(str(source), **(source_options or {}))
        texts, labels = _texts_and_labels(
            ds, str(source) if not isinstance(source, datasets.Dataset) else "dataset"
        )
    else:
        texts, labels = ["" if t is None else str(t) for t in source], [None] * len(source)
    rows, counts = new_rows(texts, method=method, n=n, alpha=alpha, operations=ops, via=via,
                            seed=seed, batch_size=batch_size, device=device,
                            precision=precision)  # fmt: skip
    table = _table(texts, labels, rows, only_new)
    options = {"method": method, "n": n, "seed": seed, "only_new": only_new}
    options.update({"alpha": alpha, "operations": list(ops)} if method == "eda" else
                   {"via": counts.get("via")})  # fmt: skip
    counts = {"originals": len(texts), **counts}
    if path is not None:
        write_table(table, path)
    return AugmentTextResult(table=table, counts=counts, out=path, options=options)


def _table(texts, labels, rows, only_new: bool) -> pd.DataFrame:
    records = [] if only_new else [(i, t, labels[i], "original") for i, t in enumerate(texts)]
    records += [(i, t, labels[i], m) for i, t, m in rows]
    df = pd.DataFrame(records, columns=["source_id", "text", "label", "method"])
    df.insert(0, "id", range(len(df)))
    return df


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``table`` as CSV (formula-safe cells, :func:`reprlearn.tables.write_csv`) or
    Parquet by ``path``'s suffix, atomically (a temp file, then a rename)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        from reprlearn.tables import write_csv

        return write_csv(table, path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        table.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def augment_train_rows(
    ds: datasets.Dataset, column: str, train: Any, opts: dict[str, Any]
) -> tuple[datasets.Dataset, Any]:
    """``finetune --augment-text``: new rows for the training split only, appended to
    ``ds`` (validation and test rows keep their indices and are never augmented).

    Args:
        ds: the labelled source; column: its item column (``text``).
        train: ``(n_train,)`` row indices of the training split.
        opts: finetune's options: ``augment_text`` (None | ``eda`` | ``backtranslate``),
            ``augment_text_n``, ``augment_text_alpha``, ``augment_text_via``, ``seed``,
            ``precision``. ``opts["augment_text_counts"]`` receives what was made (it is
            saved with the options in ``config.json``).
    Returns:
        ``(ds + new rows, train indices + the new rows' indices)``; unchanged without
        ``augment_text``.
    Raises:
        DataError: image sources (use ``--augment``). ReprlearnError: bad options.
    """
    import numpy as np

    method = opts.get("augment_text")
    if not method:
        return ds, train
    method = check_method(method)
    if column != "text":
        raise DataError("--augment-text augments texts, and this source holds images: use "
                        "--augment (image recipes) instead")  # fmt: skip
    texts = [str(t or "") for t in ds.select(train)[column]]
    rows, counts = new_rows(texts, method=method, n=opts.get("augment_text_n", 4),
                            alpha=opts.get("augment_text_alpha", 0.1),
                            via=opts.get("augment_text_via"), seed=opts.get("seed", 0),
                            precision=opts.get("precision", "auto"))  # fmt: skip
    opts["augment_text_counts"] = {"train_rows": len(texts), "rows_added": len(rows), **counts}
    if not rows:
        return ds, train
    new_texts = [t for _, t, _ in rows]
    added = ds.select(np.asarray(train)[[i for i, _, _ in rows]])
    added = added.map(lambda _, i: {column: new_texts[i]}, with_indices=True)
    out = datasets.concatenate_datasets([ds, added.cast(ds.features)])
    return out, np.concatenate([np.asarray(train), np.arange(ds.num_rows, out.num_rows)])


def check_text_options(method: str, n: int, alpha: float) -> str:
    """Validate ``method``, ``n`` and (EDA) ``alpha`` before any work; returns the method.

    Raises:
        ReprlearnError: an unknown method, ``n`` < 1, ``alpha`` outside (0, 1].
    """
    method = check_method(method)
    if method == "eda":
        check_eda_options(alpha, n, OPERATIONS)
    elif n < 1:
        raise ReprlearnError(f"--n {n}: the number of new sentences per original must be >= 1")
    return method
