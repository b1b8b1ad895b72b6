"""The model-randomisation sanity check of Adebayo et al. 2018 ("Sanity Checks for Saliency
Maps", NeurIPS): a map that explains the *model* must change when the model's weights are
re-initialised. Reported as the Spearman rank correlation between each image's map from the
trained model and from a copy with every parameter re-initialised (same layer, same
targets). Near 1: the map does not depend on what the model learned (e.g. an edge detector);
near 0: it does.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

from reprlearn.explain.cam import compute_cams
from reprlearn.explain.layers import LayerChoice

RANDOM_SEED = 2018
"""Seed of the re-initialisation: not 0, which reprlearn's ``--random-weights`` models (and
many scripts) are built with; the same seed would rebuild the very same weights."""


def randomised_copy(model: nn.Module, seed: int = RANDOM_SEED) -> nn.Module:
    """A deep copy of ``model`` with every module's ``reset_parameters()`` applied (the
    library's own initialisation; BatchNorm statistics reset too), seeded with ``seed``."""
    torch.manual_seed(seed)
    clone = copy.deepcopy(model)
    for module in clone.modules():
        reset = getattr(module, "reset_parameters", None)
        if callable(reset):
            reset()
    return clone.eval()


def rank_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman rank correlation of each pair of maps ``a[i]``, ``b[i]`` ``(n, H, W)``:
    float ``(n,)``; NaN where a map is constant (no ranking)."""
    out = np.full(len(a), np.nan)
    for i in range(len(a)):
        x, y = a[i].ravel(), b[i].ravel()
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            out[i] = spearmanr(x, y).statistic
    return out


def model_randomisation(
    model: nn.Module,
    images: torch.Tensor,
    cams: np.ndarray,
    *,
    method: str,
    layer: LayerChoice,
    targets: Sequence[int | Callable] | None,
    seed: int = RANDOM_SEED,
) -> np.ndarray:
    """Spearman correlation ``(n,)`` between ``cams`` (of ``model``) and the maps of a
    randomised copy (:func:`randomised_copy`) at the same layer and targets."""
    clone = randomised_copy(model, seed)
    twin = LayerChoice(layer.name, clone.get_submodule(layer.name), layer.reshape_transform)
    random_cams = compute_cams(clone, images, method=method, layer=twin, targets=targets)
    return rank_correlations(cams, random_cams)
