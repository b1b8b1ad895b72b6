"""Supervised image recipes: sizes and modes kept, parameters overridable and checked,
class-changing transforms opt-in, the same seed and saved config give the same batch."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits

from reprlearn.augment.recipes import (
    RECIPES,
    ImageAugment,
    PILAugment,
    augment_images,
    image_augment,
    image_transform,
)
from reprlearn.errors import ReprlearnError


@pytest.fixture(scope="module")
def digits_u8() -> torch.Tensor:
    d = load_digits()
    return torch.as_tensor((d.images[:16] * 255 / 16).astype(np.uint8)).unsqueeze(1)


@pytest.fixture(scope="module")
def rgb_u8() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (8, 3, 32, 32), generator=g, dtype=torch.uint8)


@pytest.mark.parametrize("name", RECIPES)
def test_every_recipe_keeps_size_dtype_and_channels(name, digits_u8, rgb_u8):
    for x in (digits_u8, rgb_u8):
        out = augment_images(x, image_augment(name), seed=0)
        assert out.shape == x.shape and out.dtype == torch.uint8
    if name == "none":
        assert torch.equal(augment_images(rgb_u8, image_augment(name), 0), rgb_u8)
    else:
        assert not torch.equal(augment_images(rgb_u8, image_augment(name), 0), rgb_u8)


def test_default_recipe_holds_no_flip_and_no_wide_rotation():
    for name in RECIPES:
        aug = image_augment(name)
        assert aug.hflip == 0 and aug.rotate <= 10
        names = [type(t).__name__ for t in image_transform(aug, (32, 32)).transforms]
        assert "RandomHorizontalFlip" not in names and "RandomVerticalFlip" not in names
    ta = image_transform(image_augment("strong"), (8, 8)).transforms
    capped = next(t for t in ta if "TrivialAugment" in type(t).__name__)
    assert float(capped._AUGMENTATION_SPACE["Rotate"][0](31, 8, 8).max()) == 30.0
    assert float(capped._AUGMENTATION_SPACE["TranslateX"][0](31, 8, 8).max()) == 2.0


def test_flip_is_opt_in_and_refused_for_digits():
    aug = image_augment("light", hflip=0.5, source="cifar10")
    assert "RandomHorizontalFlip" in [
        type(t).__name__ for t in image_transform(aug, (8, 8)).transforms
    ]
    with pytest.raises(ReprlearnError, match="mirrored digit"):
        image_augment("default", hflip=0.5, source="digits")


def test_overrides_replace_recipe_parameters():
    aug = image_augment("default", rotate=0, crop_scale="0.9,1", color_jitter=0.5, random_erasing=0)
    assert (aug.rotate, aug.crop_scale, aug.color_jitter, aug.random_erasing) == (
        0,
        (0.9, 1.0),
        0.5,
        0,
    )
    names = [type(t).__name__ for t in image_transform(aug, (32, 32)).transforms]
    assert names == ["ToImage", "RandomResizedCrop", "ColorJitter"]


@pytest.mark.parametrize(
    "kwargs, match",
    [({"recipe": "heavy"}, "unknown --augment 'heavy'"), ({"crop_scale": "0.5"}, "--crop-scale expects"),
     ({"crop_scale": (0.6, 0.4)}, "0 < A <= B <= 1"), ({"random_erasing": 1.5}, "--random-erasing"),
     ({"mixup": -1}, "--mixup must be >= 0"), ({"switch_prob": 2}, "--switch-prob")],
)  # fmt: skip
def test_bad_parameters_name_the_option(kwargs, match):
    with pytest.raises(ReprlearnError, match=match):
        image_augment(**kwargs)


def test_saved_config_reproduces_the_same_batch(rgb_u8):
    aug = image_augment("strong", rotate=15, mixup=0.2, cutmix=1.0)
    saved = json.loads(json.dumps({"augment": aug.to_dict()}))
    again = ImageAugment.from_dict(saved["augment"])
    assert again == aug
    a = augment_images(rgb_u8, aug, seed=3)
    assert torch.equal(a, augment_images(rgb_u8, again, seed=3))
    assert not torch.equal(a, augment_images(rgb_u8, again, seed=4))


def test_pil_augment_keeps_mode_and_size():
    for mode, size in (("L", (8, 8)), ("RGB", (32, 24))):
        img = Image.new(mode, size, color=128 if mode == "L" else (10, 200, 30))
        out = PILAugment(image_augment("strong"))(img)
        assert out.mode == mode and out.size == size
