"""Filter pictures: RGB patches for a first convolution, grey channel grids deeper (3x3
kernels of 3-channel-wide layers are not mistaken for RGB)."""

from __future__ import annotations

import numpy as np
import pytest
from torch import nn

from reprlearn.errors import ReprlearnError
from reprlearn.explain.filters import filter_image, pick_conv


def test_first_conv_is_rgb_and_deeper_conv_is_a_grey_channel_grid():
    rgb = filter_image(np.random.default_rng(0).normal(size=(8, 3, 5, 5)))
    assert rgb.shape == (3 * 6 + 1, 3 * 6 + 1, 3)  # 8 patches on a 3 x 3 grid, 1-px gaps
    grey = filter_image(np.random.default_rng(0).normal(size=(32, 32, 3, 3)))
    assert grey.shape == (16 * 4 + 1, 16 * 4 + 1)  # 16 outputs x 16 inputs of 3x3
    assert grey.min() >= 0 and grey.max() <= 1


def test_pick_conv_names_the_convolutions():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3))
    assert pick_conv(model)[0] == "0" and pick_conv(model, "2")[0] == "2"
    with pytest.raises(ReprlearnError, match="no convolution named '1'; convolutions: 0, 2"):
        pick_conv(model, "1")
    with pytest.raises(ReprlearnError, match="no convolution"):
        pick_conv(nn.Sequential(nn.Linear(3, 3)))
