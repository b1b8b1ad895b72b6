"""scikit-learn's bundled handwritten digits as an image dataset (no download)."""

from __future__ import annotations

import functools

import datasets
import numpy as np
from PIL import Image


def load_digits_dataset() -> datasets.Dataset:
    """The 1,797 8x8 grayscale digits of ``sklearn.datasets.load_digits``.

    Pixel values 0..16 are scaled to 0..255 (``L`` mode PIL images). Columns: ``image``
    (``datasets.Image``), ``label`` (``ClassLabel`` "0".."9").

    Built once per process (encoding the images is the slow part); each call returns a
    fresh Dataset over the same Arrow table.

    Source: UCI Optical Recognition of Handwritten Digits (Alpaydin & Kaynak 1998).
    """
    ds = _build()
    return datasets.Dataset(ds.data, info=ds.info.copy(), fingerprint=ds._fingerprint)


@functools.cache
def _build() -> datasets.Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "label": datasets.ClassLabel(names=[str(i) for i in range(10)]),
        }
    )
    images = [Image.fromarray(p, mode="L") for p in pixels]
    return datasets.Dataset.from_dict(
        {"image": images, "label": bunch.target.tolist()}, features=features
    )
