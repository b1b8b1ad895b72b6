"""compute_cams: maps concentrate where the model looks, shapes and ranges, every method."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reprlearn.errors import ReprlearnError
from reprlearn.explain import compute_cams, energy_inside
from reprlearn.explain.cam import METHODS

REGION = (slice(4, 16), slice(18, 30))  # as RegionModel in conftest.py


def _region_mask(n: int, grow: int = 0) -> np.ndarray:
    mask = np.zeros((n, 32, 32), bool)
    r, c = REGION
    mask[:, r.start - grow : r.stop + grow, c.start - grow : c.stop + grow] = True
    return mask


def test_gradcam_energy_concentrates_on_the_region_the_output_depends_on(region_model):
    torch.manual_seed(1)
    x = torch.rand(6, 3, 32, 32)
    cams = compute_cams(region_model, x, method="gradcam")
    assert cams.shape == (6, 32, 32) and cams.dtype == np.float32
    assert cams.min() >= 0 and cams.max() <= 1
    # two 3x3 convolutions reach 2 px beyond the region; nothing outside that
    assert energy_inside(cams, _region_mask(6, grow=2)).min() > 0.99
    # the region is 14% of the image: a map that ignored the model would score ~0.14
    assert energy_inside(cams, _region_mask(6)).mean() > 0.45


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_unit_range_maps_at_input_size(region_model, method):
    x = torch.rand(2, 3, 32, 32)
    cams = compute_cams(region_model, x, method=method, targets=[0, 2])
    assert cams.shape == (2, 32, 32) and cams.dtype == np.float32
    assert cams.min() >= 0 and cams.max() <= 1 and cams.max() > 0.5
    if method != "eigencam":  # EigenCAM's principal component has an arbitrary sign
        assert energy_inside(cams, _region_mask(2, grow=2)).min() > 0.99


def test_targets_change_the_gradcam_map(region_model):
    x = torch.rand(1, 3, 32, 32).repeat(3, 1, 1, 1)
    cams = compute_cams(region_model, x, targets=[0, 1, 2])
    assert not np.allclose(cams[0], cams[1]) or not np.allclose(cams[1], cams[2])


def test_unknown_method_and_wrong_target_count_are_clear_errors(region_model):
    x = torch.rand(2, 3, 32, 32)
    with pytest.raises(ReprlearnError, match="unknown --method 'gradcamz'; choose one of gradcam"):
        compute_cams(region_model, x, method="gradcamz")
    with pytest.raises(ReprlearnError, match="1 targets for 2 images"):
        compute_cams(region_model, x, targets=[0])
