"""``dictionary:D`` sparse-coding encoder on real digits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from reprlearn.data import load_dataset
from reprlearn.encoders.dictionary import DictionaryEncoder
from reprlearn.encoders.registry import load_encoder


@pytest.fixture(scope="module")
def digits():
    ds = load_dataset("digits")
    return list(ds["image"]), np.array(ds["label"])


@pytest.fixture(scope="module")
def fitted(digits):
    images, _ = digits
    return load_encoder("dictionary:32").fit(images[:1000])


def test_codes_are_sparse_reconstruct_and_separate_classes(digits, fitted):
    images, labels = digits
    codes = fitted.encode(images)
    assert codes.shape == (len(images), 32) and codes.dtype == np.float32
    assert isinstance(fitted, DictionaryEncoder) and fitted.dim == 32
    assert 0.05 < (codes != 0).mean() < 0.8  # sparse, not empty
    x = fitted.pixels(images) - fitted.mean_
    residual = ((x - codes @ fitted.components_) ** 2).sum(1)
    assert residual.mean() < 0.6 * (x**2).sum(1).mean()
    clf = LogisticRegression(max_iter=1000).fit(codes[:1000], labels[:1000])
    assert clf.score(codes[1000:], labels[1000:]) > 0.85


def test_omp_has_exactly_k_nonzeros(digits):
    images, _ = digits
    enc = load_encoder("dictionary:20", algorithm="omp", n_nonzero=3).fit(images[:600])
    codes = enc.encode(images[600:700])
    assert ((codes != 0).sum(1) <= 3).all() and ((codes != 0).sum(1) >= 1).all()


def test_state_roundtrip(tmp_path, digits, fitted):
    images, _ = digits
    fitted.save(tmp_path)
    again = load_encoder("dictionary:32").load(tmp_path)
    np.testing.assert_allclose(again.encode(images[:50]), fitted.encode(images[:50]), atol=1e-5)


def test_bad_options():
    with pytest.raises(ValueError, match="algorithm"):
        load_encoder("dictionary:8", algorithm="cd")
    with pytest.raises(ValueError, match="positive integer"):
        load_encoder("dictionary:x")
