"""The public API keeps working however often it is called and whatever was imported."""

from __future__ import annotations

import importlib

import numpy as np

import reprlearn


def test_every_public_name_resolves_and_is_listed():
    for name in reprlearn.__all__:
        assert callable(getattr(reprlearn, name)), name
        assert name in dir(reprlearn)


def test_embed_twice_in_one_process(tmp_path):
    ds = reprlearn.load_dataset("digits")
    first = reprlearn.embed(ds, "pca:8", out=tmp_path / "a", progress=False)
    # importing the same-named submodule must not replace the function on the package
    importlib.import_module("reprlearn.embed")
    second = reprlearn.embed(ds, "pca:8", out=tmp_path / "b", progress=False)
    X1, _ = first.to_numpy()
    X2, _ = second.to_numpy()
    assert X1.shape == (1797, 8)
    np.testing.assert_allclose(np.abs(X1), np.abs(X2), atol=1e-4)
    assert callable(reprlearn.embed)


def test_submodule_import_still_reaches_module_members():
    from reprlearn.embed import encode_items

    assert encode_items is reprlearn.encode_items
