"""energy_inside: the energy-based pointing game (Score-CAM, Wang et al. 2020)."""

from __future__ import annotations

import numpy as np
import pytest

from reprlearn.errors import DataError
from reprlearn.explain import energy_inside
from reprlearn.explain.pointing import resize_masks


def _masks() -> np.ndarray:
    masks = np.zeros((2, 10, 10), bool)
    masks[0, 2:6, 3:8] = True  # 20 px of 100
    masks[1, :5, :] = True  # 50 px
    return masks


def test_perfect_map_scores_one_and_uniform_map_scores_the_area_share():
    masks = _masks()
    perfect = masks.astype(np.float32) * 0.7
    assert energy_inside(perfect, masks) == pytest.approx([1.0, 1.0])
    uniform = np.full((2, 10, 10), 0.3, np.float32)
    assert energy_inside(uniform, masks) == pytest.approx([0.2, 0.5])
    outside = (~masks).astype(np.float32)
    assert energy_inside(outside, masks) == pytest.approx([0.0, 0.0])


def test_empty_map_is_nan_not_a_score():
    share = energy_inside(np.zeros((2, 10, 10)), _masks())
    assert np.isnan(share).all()


def test_shape_mismatch_and_negative_maps_are_clear_errors():
    with pytest.raises(DataError, match="resize the masks"):
        energy_inside(np.ones((2, 10, 10)), np.ones((2, 5, 5), bool))
    with pytest.raises(DataError, match="non-negative"):
        energy_inside(-np.ones((2, 10, 10)), _masks())


def test_resize_masks_nearest_neighbour():
    big = resize_masks(_masks(), (20, 20))
    assert big.shape == (2, 20, 20)
    assert big[0].sum() == 4 * 20 and big[1].sum() == 200
