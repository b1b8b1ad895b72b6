"""The procedural ``shapes`` dataset: factors are independent, images match the factors."""

from __future__ import annotations

import numpy as np
import pytest

from reprlearn.data.shapes import (
    COLORS,
    N_POSITIONS,
    SHAPES,
    factor_names,
    make_shapes,
    render_shapes,
    sample_factors,
)


@pytest.fixture(scope="module")
def ds():
    return make_shapes(n=600, seed=3)


def test_columns_labels_and_determinism(ds):
    assert ds.column_names == ["image", "label", *factor_names()]
    assert ds.features["label"].names == list(SHAPES)
    assert ds["label"] == ds["shape"]
    img = ds[0]["image"]
    assert img.size == (32, 32) and img.mode == "RGB"
    again = make_shapes(n=50, seed=3)
    assert again["color"] == ds["color"][:50]
    assert np.array_equal(np.asarray(again[7]["image"]), np.asarray(ds[7]["image"]))
    assert make_shapes(n=50, seed=4)["color"] != again["color"]


def test_factors_uniform_and_independent():
    f = sample_factors(20_000, seed=0, rotation=True)
    assert set(f) == set(factor_names(rotation=True))
    counts = np.bincount(f["color"])
    assert len(counts) == len(COLORS) and counts.min() > 0.9 * 20_000 / len(COLORS)
    # independence: the joint of shape x colour is the product of the marginals
    joint = np.histogram2d(f["shape"], f["color"], bins=(3, 6))[0] / 20_000
    assert np.abs(joint - np.outer(joint.sum(1), joint.sum(0))).max() < 0.01


def test_pixels_follow_the_factors():
    n = 400
    f = sample_factors(n, seed=1, rotation=True)
    imgs = render_shapes(f, size=32)
    assert imgs.shape == (n, 32, 32, 3) and imgs.dtype == np.uint8
    mask = imgs.max(-1) > 0
    area = mask.sum((1, 2))
    # size: bigger scale, more pixels (per shape); circle area ~ pi r^2
    for s in range(3):
        big, small = (
            area[(f["shape"] == s) & (f["size"] == 2)],
            area[(f["shape"] == s) & (f["size"] == 0)],
        )
        assert big.min() > small.max()
    r = 0.24 * 32
    circles = area[(f["shape"] == 1) & (f["size"] == 2)]
    assert np.abs(circles - np.pi * r * r).max() < 0.1 * np.pi * r * r
    # position: the centroid moves right with x and down with y
    cols = np.arange(32)
    cx = (mask.sum(1) * cols).sum(1) / area
    cy = (mask.sum(2) * cols).sum(1) / area
    for k in range(N_POSITIONS - 1):
        assert cx[f["x"] == k].max() < cx[f["x"] == k + 1].min()
        assert cy[f["y"] == k].max() < cy[f["y"] == k + 1].min()
    # colour: the drawn pixels carry the hue of the colour factor (red = (255, 0, 0))
    red = imgs[f["color"] == 0][mask[f["color"] == 0]]
    assert (red == [255, 0, 0]).all()


def test_generation_is_fast_and_sizes_and_errors():
    import time

    t = time.perf_counter()
    render_shapes(sample_factors(10_000), size=32)
    assert time.perf_counter() - t < 5.0
    assert np.asarray(make_shapes(n=5, size=8)[0]["image"]).shape == (8, 8, 3)
    with pytest.raises(ValueError, match="size >= 8"):
        make_shapes(n=5, size=4)
    with pytest.raises(ValueError, match="n >= 1"):
        make_shapes(n=0)
