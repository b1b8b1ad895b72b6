"""Image datasets held in memory as uint8 tensors for pretraining, with a labelled held-out
split for monitoring (kNN accuracy, collapse diagnostics).

Decoding happens once (CIFAR-10's 50,000 JPEGs take about 20 s); batches are then slices
of one ``(N, C, H, W)`` uint8 tensor, turned into floats in [0, 1] on the training device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import datasets
import numpy as np
import torch
from PIL import Image

from reprlearn.data.items import to_8bit
from reprlearn.errors import DataError

GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F", "P"}


@dataclass
class ImageData:
    """Decoded images and labels.

    Attributes:
        train: uint8 ``(N, C, H, W)``: the items trained on.
        holdout: uint8 ``(M, C, H, W)``: items kept out of training, for monitoring.
        train_labels, holdout_labels: int64 ``(N,)`` / ``(M,)``, or None when unlabelled.
        label_names: class names, or None.
        source: the ``reprlearn.data.load_dataset`` arguments (or ``{"source": repr}``).
    """

    train: torch.Tensor
    holdout: torch.Tensor
    train_labels: torch.Tensor | None = None
    holdout_labels: torch.Tensor | None = None
    label_names: list[str] | None = None
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        c, h, w = self.train.shape[1:]
        return int(c), int(h), int(w)

    def mean_std(self) -> tuple[list[float], list[float]]:
        """Per-channel mean and std of the training images in [0, 1] units."""
        x = self.train[:20_000].float().div_(255).transpose(0, 1).reshape(self.train.shape[1], -1)
        return x.mean(1).tolist(), x.std(1).clamp_min(1e-3).tolist()


class InMemoryImages(torch.utils.data.Dataset):
    """Map-style dataset over a uint8 tensor; ``__getitems__`` slices a whole batch at once."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]

    def __getitems__(self, indices: list[int]) -> torch.Tensor:
        return self.images[torch.as_tensor(indices)]


def passthrough(batch: torch.Tensor) -> torch.Tensor:
    """DataLoader ``collate_fn`` for :class:`InMemoryImages` (the batch is already a tensor)."""
    return batch


def to_array(image: Image.Image, mode: str, size: int | None) -> np.ndarray:
    """One PIL image -> uint8 ``(C, H, W)`` in ``mode`` (``L`` or ``RGB``), resized if asked."""
    image = to_8bit(image).convert(mode)  # 16-bit PNGs scaled, not clipped white
    if size is not None and image.size != (size, size):
        image = image.resize((size, size), Image.BILINEAR)
    a = np.asarray(image, dtype=np.uint8)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


def decode_images(ds: datasets.Dataset, image_size: int | None = None) -> torch.Tensor:
    """Decode the ``image`` column to uint8 ``(N, C, H, W)``; grayscale if the first image is.

    Raises:
        DataError: no ``image`` column, or images of different sizes without ``image_size``.
    """
    if "image" not in ds.column_names:
        raise DataError(f"pretraining needs an 'image' column; the dataset has {ds.column_names}")
    first = ds[0]["image"]
    mode = "L" if first.mode in GRAY_MODES else "RGB"
    out, shape = [], None
    for start in range(0, len(ds), 1000):
        for i, image in enumerate(ds[start : start + 1000]["image"]):
            a = to_array(image, mode, image_size)
            if shape is None:
                shape = a.shape
            elif a.shape != shape:
                raise DataError(
                    f"image {start + i} is {a.shape[2]}x{a.shape[1]} px but the first is "
                    f"{shape[2]}x{shape[1]}: pass image_size (--image-size) to resize all"
                )
            out.append(a)
    return torch.from_numpy(np.stack(out))


def load_image_data(
    source: str | datasets.Dataset,
    *,
    max_items: int | None = None,
    holdout: float = 0.2,
    max_holdout: int = 2000,
    seed: int = 0,
    image_size: int | None = None,
    source_options: dict[str, Any] | None = None,
) -> ImageData:
    """Load ``source`` (a ``reprlearn.data.load_dataset`` source or a Dataset) into memory.

    Args:
        source: e.g. ``"digits"``, ``"cifar10"``, an image folder or parquet; or a Dataset
            with an ``image`` column (and optional ``label``).
        max_items: keep a seeded random subset of this many items (default all).
        holdout: fraction of the items held out for monitoring (default 0.2) ...
        max_holdout: ... but at most this many (default 2000).
        seed: seed of the subset and the split.
        image_size: resize every image to ``image_size`` px square (default: keep).
        source_options: extra ``load_dataset`` options (``split``, ``data_dir``, ...);
            named datasets with splits (``cifar10``) default to ``split="train"``.

    Raises:
        DataError: unreadable source, no images, too few items (< 4 after the split).
    """
    from reprlearn.data import load_dataset, source_spec
    from reprlearn.data.load import NAMED_SPLITS

    options = dict(source_options or {})
    if isinstance(source, str) and source in NAMED_SPLITS:
        options.setdefault("split", "train")  # pretrain on the training split by default
    ds = load_dataset(source, **options) if isinstance(source, str) else source
    spec = source_spec(ds) or {"source": source if isinstance(source, str) else "<Dataset>"}
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ds))
    if max_items is not None:
        order = order[:max_items]
    n_hold = min(int(round(holdout * len(order))), max_holdout)
    if len(order) - n_hold < 4:
        raise DataError(f"{spec.get('source')}: {len(order)} items is too few to pretrain on")
    ds = ds.select(order.tolist())
    images = decode_images(ds, image_size)
    labels = None
    if "label" in ds.column_names:
        labels = torch.as_tensor(np.asarray(ds["label"], dtype=np.int64))
    feature = ds.features.get("label")
    names = list(feature.names) if isinstance(feature, datasets.ClassLabel) else None
    return ImageData(
        train=images[n_hold:],
        holdout=images[:n_hold],
        train_labels=None if labels is None else labels[n_hold:],
        holdout_labels=None if labels is None else labels[:n_hold],
        label_names=names,
        source=spec,
    )
