"""Text sources: one item per line, SentEval class-per-file folders, TREC and SST2 files
(tables are in :mod:`reprlearn.data.table`).

Line-based loaders add an ``origin`` column (``"file:line"``) so a bad item can be named.
"""

from __future__ import annotations

from pathlib import Path

import datasets

from reprlearn.data.encoding import read_lines
from reprlearn.errors import DataError

SST2_LABELS = ["negative", "positive"]


def _dataset(texts: list[str], origins: list[str], labels=None, names=None) -> datasets.Dataset:
    columns: dict = {"text": texts}
    features = {"text": datasets.Value("string")}
    if labels is not None:
        columns["label"] = labels
        features["label"] = datasets.ClassLabel(names=names)
    columns["origin"] = origins
    features["origin"] = datasets.Value("string")
    return datasets.Dataset.from_dict(columns, features=datasets.Features(features))


def load_lines(path: str | Path, encoding: str | None = None) -> datasets.Dataset:
    """A ``.txt`` file, one item per line -> Dataset(text, origin); no labels."""
    lines = read_lines(path, encoding)
    return _dataset(lines, [f"{path}:{i + 1}" for i in range(len(lines))])


def load_class_files(folder: str | Path, encoding: str | None = None) -> datasets.Dataset:
    """A folder where each file is one class, one item per line (SentEval's MR, CR, SUBJ,
    MPQA). The class name is the file's extension (``rt-polarity.pos`` -> ``pos``) or,
    without one, its name. Files are read in sorted order, so label ids are stable.
    """
    files = sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise DataError(f"{folder}: no files; expected one text file per class")
    names = [p.suffix.lstrip(".") or p.name for p in files]
    if len(set(names)) != len(names):
        names = [p.name for p in files]
    texts, labels, origins = [], [], []
    for label, path in enumerate(files):
        lines = read_lines(path, encoding)
        texts += lines
        labels += [label] * len(lines)
        origins += [f"{path}:{i + 1}" for i in range(len(lines))]
    return _dataset(texts, origins, labels, names)


def load_trec(
    path: str | Path, encoding: str | None = None, fine: bool = False
) -> datasets.Dataset:
    """TREC question classification (Li & Roth 2002): lines ``COARSE:fine question``.

    Args:
        encoding: default ISO-8859-1, as published (a UTF-16/UTF-8 BOM overrides it).
        fine: use the 50 fine labels (``LOC:city``) instead of the 6 coarse ones.
    Raises:
        DataError: a line without the ``LABEL:fine`` prefix (names file and line).
    """
    texts, raw, origins = [], [], []
    for i, line in enumerate(read_lines(path, encoding, default="latin-1")):
        head, _, text = line.partition(" ")
        if ":" not in head or not text:
            raise DataError(f"{path}:{i + 1}: expected 'LABEL:fine question', got {line[:60]!r}")
        raw.append(head if fine else head.split(":", 1)[0])
        texts.append(text.strip())
        origins.append(f"{path}:{i + 1}")
    names = sorted(set(raw))
    return _dataset(texts, origins, [names.index(r) for r in raw], names)


def load_sst2(path: str | Path, encoding: str | None = None) -> datasets.Dataset:
    """SST-2 (Socher et al. 2013) in SentEval's layout: ``sentence<TAB>label`` (0/1).

    Raises:
        DataError: a line without a tab-separated 0/1 label (names file and line).
    """
    texts, labels, origins = [], [], []
    for i, line in enumerate(read_lines(path, encoding)):
        text, sep, label = line.rpartition("\t")
        if not sep or label.strip() not in {"0", "1"}:
            raise DataError(f"{path}:{i + 1}: expected 'sentence<TAB>0|1', got {line[:60]!r}")
        texts.append(text.strip())
        labels.append(int(label))
        origins.append(f"{path}:{i + 1}")
    return _dataset(texts, origins, labels, SST2_LABELS)
