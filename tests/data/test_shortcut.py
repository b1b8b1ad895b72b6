"""The corner-marker shortcut and the shapes object masks (issue 12, part 4)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from reprlearn.data.shapes import _masks, make_shapes, shape_masks
from reprlearn.data.shortcut import add_shortcut, marker_side


def _pixels(ds):
    return np.stack([np.asarray(im) for im in ds["image"]])


def test_shape_masks_are_the_drawn_pixels():
    ds = make_shapes(200, seed=3)
    masks = shape_masks(ds)
    assert masks.shape == (200, 32, 32) and masks.dtype == bool
    assert ((_pixels(ds).sum(-1) > 0) == masks).all()


def test_shape_masks_refuse_a_dataset_without_factors():
    ds = make_shapes(10).remove_columns(["x", "y"])
    with pytest.raises(ValueError, match="missing x, y"):
        shape_masks(ds)


@pytest.mark.parametrize("size", [16, 32, 64, 96])
def test_marker_never_touches_an_object(size):
    names = ("shape", "color", "size", "x", "y", "rotation")
    combos = itertools.product(range(3), [0], range(3), range(5), range(5), range(4))
    factors = {k: np.array(v) for k, v in zip(names, zip(*combos, strict=True), strict=True)}
    masks, s = _masks(factors, size), marker_side(size)
    for rows, cols in itertools.product((slice(0, s), slice(-s, None)), repeat=2):
        assert not masks[:, rows, cols].any()


def test_marker_tied_on_training_rows_random_elsewhere():
    ds = make_shapes(600, seed=0)
    tied = np.arange(400)
    marked = add_shortcut(ds, "corner-marker", tied_rows=tied, seed=1)
    codes, y = np.asarray(marked["shortcut_code"]), np.asarray(marked["label"])
    assert (codes[tied] == y[tied]).all()
    rest = np.arange(400, 600)
    assert 0.15 < (codes[rest] == y[rest]).mean() < 0.55  # random, about 1/3 by chance
    changed = (_pixels(marked) != _pixels(ds)).any(-1)
    assert not (changed & shape_masks(ds)).any()  # the object is untouched
    assert (changed.sum((1, 2)) == marker_side(32) ** 2).all()


def test_unknown_shortcut_is_refused():
    with pytest.raises(ValueError, match="corner-marker"):
        add_shortcut(make_shapes(10), "watermark")


def test_finetune_learns_the_marker_and_fails_on_random_markers(tmp_path):
    """Raw pixels cannot separate the shapes linearly (chance 1/3 on clean data), but
    the tied marker can: validation accuracy 1.0, test accuracy near chance."""
    from reprlearn.adapt.finetune import finetune

    out = tmp_path / "run"
    result = finetune("shapes:400", "pixels", strategy="freeze", out=out, shortcut="corner-marker",
                      lp_epochs=8, min_steps=10, batch_size=64, progress=False)  # fmt: skip
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert max(r["val_acc"] for r in log if r.get("val_acc") is not None) == 1.0
    assert result.accuracy.value < 0.6
    assert json.loads((out / "config.json").read_text())["options"]["shortcut"] == "corner-marker"
