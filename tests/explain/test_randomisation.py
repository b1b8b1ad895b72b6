"""Model randomisation (Adebayo et al. 2018): re-initialised weights change the maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reprlearn.explain import compute_cams
from reprlearn.explain.layers import choose_layer
from reprlearn.explain.randomisation import (
    model_randomisation,
    randomised_copy,
    rank_correlations,
)


def test_rank_correlation_of_identical_reversed_and_constant_maps():
    a = np.random.default_rng(0).random((3, 8, 8))
    b = a.copy()
    b[1] = -a[1]
    b[2] = 0.5
    rho = rank_correlations(a, b)
    assert rho[0] == pytest.approx(1.0) and rho[1] == pytest.approx(-1.0) and np.isnan(rho[2])


def test_randomised_copy_leaves_the_model_alone(region_model):
    before = [p.clone() for p in region_model.parameters()]
    clone = randomised_copy(region_model, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(before, region_model.parameters(), strict=True))
    assert not torch.equal(clone.features[0].weight, region_model.features[0].weight)


def test_randomisation_changes_the_maps(region_model):
    torch.manual_seed(0)
    x = torch.rand(4, 3, 32, 32)
    layer = choose_layer(region_model, x)
    cams = compute_cams(region_model, x, layer=layer, targets=[0, 1, 2, 0])
    rho = model_randomisation(region_model, x, cams, method="gradcam", layer=layer,
                              targets=[0, 1, 2, 0])  # fmt: skip
    assert rho.shape == (4,)
    assert np.nanmean(rho) < 0.9  # the maps depend on the learned weights
    same = rank_correlations(cams, compute_cams(region_model, x, layer=layer, targets=[0, 1, 2, 0]))
    assert np.allclose(same, 1.0)  # and are reproducible without randomisation
