"""Batched augmentations: equal to torchvision.transforms.v2 for fixed factors, random per
sample, reproducible from a seed, in range, and the recipes' shapes."""

from __future__ import annotations

import pytest
import torch
from torchvision.transforms.v2 import functional as TF

from reprlearn.augment import ssl_views as A


@pytest.fixture
def batch():
    return torch.rand(6, 3, 16, 16, generator=torch.Generator().manual_seed(0))


def _full(v):
    return torch.full((6,), v)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda x: A.adjust_brightness(x, _full(1.3)), lambda x: TF.adjust_brightness(x, 1.3)),
        (lambda x: A.adjust_contrast(x, _full(0.6)), lambda x: TF.adjust_contrast(x, 0.6)),
        (lambda x: A.adjust_saturation(x, _full(1.4)), lambda x: TF.adjust_saturation(x, 1.4)),
        (lambda x: A.adjust_hue(x, _full(0.1)), lambda x: TF.adjust_hue(x, 0.1)),
        (A.grayscale, lambda x: TF.rgb_to_grayscale(x, 3)),
        (A.solarize, lambda x: TF.solarize(x, 0.5)),
        (lambda x: A.gaussian_blur(x, _full(1.0), 3), lambda x: TF.gaussian_blur(x, [3, 3], [1.0])),
    ],
)
def test_ops_match_torchvision(batch, ours, theirs):
    torch.testing.assert_close(ours(batch), theirs(batch), atol=2e-4, rtol=0)


def test_identity_warp_returns_the_image(batch):
    theta = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(6, 2, 3)
    torch.testing.assert_close(A.warp(batch, theta, 16), batch, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["simclr", "byol", "vicreg", "digits"])
def test_recipes_randomise_per_sample_and_reproduce(name):
    img = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    x = img.expand(8, 3, 32, 32).contiguous()  # 8 copies of one image
    out = A.recipe(name, 32).reseed(3)(x)
    assert out.shape == (8, 3, 32, 32) and out.min() >= 0 and out.max() <= 1
    diffs = [(out[0] - out[i]).abs().max().item() for i in range(1, 8)]
    assert min(diffs) > 1e-3, "copies of one image got identical views: one draw per batch"
    again = A.recipe(name, 32).reseed(3)(x)
    torch.testing.assert_close(out, again)


def test_digits_recipe_keeps_grayscale_and_size_and_does_not_flip():
    from sklearn.datasets import load_digits

    x = torch.tensor(load_digits().images[:64] / 16, dtype=torch.float32).unsqueeze(1)
    out = A.recipe("digits", 8).reseed(0)(x)
    assert out.shape == (64, 1, 8, 8)
    # small affine maps: views stay closer to their own digit than to its mirror image
    own = (out - x).abs().mean()
    mirrored = (out - x.flip(-1)).abs().mean()
    assert own < 0.8 * mirrored


def test_two_view_recipe_alternates_views():
    r = A.recipe("byol", 32)
    assert len(r.views) == 2 and r.views[0].solarize_p == 0.0 and r.views[1].solarize_p == 0.2


def test_unknown_recipe():
    with pytest.raises(ValueError, match="simclr"):
        A.recipe("nope", 32)
