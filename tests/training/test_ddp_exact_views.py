"""The ``none`` SSL recipe is the identity (no random flip either): the exact 1-process
against 2-process check of ``benchmarks/ddp_cpu.py`` relies on views that do not depend
on each rank's random stream (a default ``flip_p=0.5`` used to flip half the images)."""

from __future__ import annotations

import torch

from reprlearn.augment.ssl_views import recipe


def test_none_recipe_returns_the_batch_unchanged():
    aug = recipe("none", 8)
    aug.reseed(3, "cpu")
    x = torch.rand(32, 1, 8, 8)
    x[:, :, :, :4] = 0  # asymmetric, so a flip would show
    assert torch.equal(aug(x), x) and torch.equal(aug(x), x)
