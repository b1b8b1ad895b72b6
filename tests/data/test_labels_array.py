"""``label_array``: the label column as one Arrow read, in the dataset's row order."""

from __future__ import annotations

import numpy as np

from reprlearn.data import load_dataset
from reprlearn.data.labels import label_array


def test_label_array_follows_shuffles_and_selections():
    digits = load_dataset("digits")
    mixed = digits.shuffle(seed=3).select(range(50, 400))
    expected = np.asarray([row["label"] for row in mixed])
    got = label_array(mixed)
    assert got.dtype.kind == "i" and got.tolist() == expected.tolist()
    assert label_array(load_dataset("digits")).tolist() == list(load_dataset("digits")["label"])
