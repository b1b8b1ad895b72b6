"""The kornia batched path draws the same parameters per image as the per-image v2 path."""

from __future__ import annotations

import pytest
import torch

from reprlearn.augment.batched import BatchedAugment, draw_params
from reprlearn.augment.recipes import augment_images, image_augment
from reprlearn.errors import ReprlearnError


@pytest.fixture(scope="module")
def smooth_u8() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = torch.nn.functional.interpolate(
        torch.rand(12, 3, 8, 8, generator=g), size=32, mode="bilinear"
    )
    return (x * 255).round().to(torch.uint8)


@pytest.mark.parametrize(
    "name, kw, tol",
    [("light", {}, 0.01), ("default", {}, 0.02), ("default", {"hflip": 0.5}, 0.02),
     ("none", {"rotate": 20}, 1e-6), ("none", {"color_jitter": 0.4}, 0.01),
     ("none", {"random_erasing": 1.0}, 1e-6)],
)  # fmt: skip
def test_batched_matches_per_image_torchvision(smooth_u8, name, kw, tol):
    aug = image_augment(name, **kw)
    per_image = augment_images(smooth_u8, aug, seed=5).float() / 255
    batched = BatchedAugment(aug)(smooth_u8.float() / 255, seed=5)
    assert batched.shape == per_image.shape
    assert float((batched - per_image).abs().mean()) < tol
    assert not torch.equal(batched, smooth_u8.float() / 255)


def test_draws_differ_per_image_and_replay_for_the_same_seed():
    aug = image_augment("default")
    p = draw_params(aug, (3, 32, 32), [1, 2, 3])
    assert p[0]["RandomResizedCrop"] != p[1]["RandomResizedCrop"]
    assert draw_params(aug, (3, 32, 32), [1, 2, 3])[2]["RandomRotation"] == p[2]["RandomRotation"]


def test_trivial_augment_has_no_batched_form():
    with pytest.raises(ReprlearnError, match="TrivialAugmentWide"):
        BatchedAugment(image_augment("strong"))
