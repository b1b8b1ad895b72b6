"""Corrupted image test sets (ImageNet-C corruptions via kornia) through ``load_dataset``."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip(
    "kornia", reason="corruptions need kornia (pip install 'reprlearn[corruptions]')"
)

from reprlearn.data.corruptions import CORRUPTIONS, corrupt  # noqa: E402
from reprlearn.data.load import load_dataset  # noqa: E402
from reprlearn.errors import DataError  # noqa: E402


def _pixels(ds, n=50):
    return np.stack([np.asarray(im, np.float32) for im in ds.select(range(n))["image"]])


@pytest.fixture(scope="module")
def small():
    return load_dataset("digits").select(range(50))


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_each_corruption_changes_images_more_with_severity(small, name):
    clean = _pixels(small)
    mild = _pixels(corrupt(small, f"{name}:1"))
    strong = _pixels(corrupt(small, f"{name}:5"))
    assert mild.shape == strong.shape == clean.shape
    d1, d5 = np.abs(mild - clean).mean(), np.abs(strong - clean).mean()
    assert 0 < d1 < d5


def test_corruption_is_seeded_and_labels_kept():
    a = load_dataset("digits", corruption="gaussian_noise:3")
    b = load_dataset("digits", corruption="gaussian_noise:3")
    assert np.array_equal(_pixels(a, 5), _pixels(b, 5))
    assert a["label"] == load_dataset("digits")["label"]


def test_bad_corruption_names_the_choices():
    with pytest.raises(DataError, match="gaussian_noise, gaussian_blur, contrast, jpeg"):
        load_dataset("digits", corruption="fog:2")
    with pytest.raises(DataError, match="severity must be 1-5"):
        load_dataset("digits", corruption="contrast:9")
