"""Loading a labelled source for fine-tuning, and the torch datasets that feed training."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import datasets
import numpy as np
import torch

from reprlearn.data.items import decode_item
from reprlearn.encoders.base import Encoder, TorchEncoder
from reprlearn.errors import DataError


def load_labelled(source: str | datasets.Dataset, options: dict[str, Any] | None = None):
    """``(dataset, column, label_names)`` of a labelled source (``load_dataset`` options).

    Raises:
        DataError: the source has no labels (names the fix: ``--label-column``).
    """
    from reprlearn.data import load_dataset, require_labels

    ds = source if isinstance(source, datasets.Dataset) else load_dataset(source, **(options or {}))
    if isinstance(source, str):
        require_labels(ds, source, "finetune")  # lists a table's own columns
    column = "text" if "text" in ds.column_names else "image"
    names = getattr(ds.features.get("label"), "names", None)
    if names is None:
        raise DataError(
            f"{source if isinstance(source, str) else 'the dataset'} has no labels "
            f"(columns: {ds.column_names}); finetune needs labelled data: give "
            "--label-column NAME for a table, or class subfolders for images"
        )
    return ds, column, list(names)


def check_modality(encoder: Encoder, column: str, source: str) -> None:
    """Raise when the encoder reads another modality than the source holds."""
    if encoder.modality != column:
        raise DataError(
            f"encoder {encoder.name!r} reads {encoder.modality}, but {source} holds "
            f"{column}s; choose a {column} encoder"
        )


def align_labels(y: np.ndarray, names: list[str], train_names: list[str], where: str) -> np.ndarray:
    """Map label ids of a source with ``names`` onto the training label ids.

    Raises:
        DataError: a label the classifier never saw in training (lists them).
    """
    from reprlearn.data.labels import map_label_ids

    return map_label_ids(y, names, train_names, lambda unseen: (
        f"{where}: labels {unseen[:10]} were not seen in training (the classifier knows "
        f"{train_names[:20]}); drop those rows or retrain with them"))  # fmt: skip


class ItemDataset(torch.utils.data.Dataset):
    """Raw items + labels -> ``(encoder.preprocess(transform(decoded item)), label)`` per index
    (``transform``: e.g. a supervised augmentation recipe, PIL -> PIL; None: none)."""

    def __init__(self, items: Sequence[Any], labels: np.ndarray, encoder: TorchEncoder,
                 transform: Any = None) -> None:  # fmt: skip
        self.items, self.labels, self.encoder = items, np.asarray(labels), encoder
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        item = decode_item(self.items[i], self.encoder.modality)
        if self.transform is not None:
            item = self.transform(item)
        return self.encoder.preprocess(item), int(self.labels[i])


class Collate:
    """A list of ``(prepared item, label)`` -> ``(encoder.collate(items), labels (B,))``."""

    def __init__(self, encoder: TorchEncoder) -> None:
        self.encoder = encoder

    def __call__(self, batch):
        items, labels = zip(*batch, strict=True)
        return self.encoder.collate(list(items)), torch.tensor(labels, dtype=torch.long)
