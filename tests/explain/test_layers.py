"""Layer choice on tiny timm and torchvision models built here (random weights, no download):
the last conv stage of CNNs, a ViT's last block with CLS + register tokens on a non-square
grid, and the errors for a model with nothing to hook or an unknown layer."""

from __future__ import annotations

import numpy as np
import pytest
import timm
import torch
from torch import nn

from reprlearn.errors import ReprlearnError
from reprlearn.explain import compute_cams
from reprlearn.explain.layers import choose_layer, token_reshape


@pytest.mark.parametrize(("name", "expected"), [("test_resnet", "layer4"),
                                                ("test_convnext", "stages")])  # fmt: skip
def test_timm_cnn_last_stage(name, expected):
    model = timm.create_model(name, pretrained=False).eval()
    x = torch.rand(2, 3, 64, 64)
    assert choose_layer(model, x).name == expected
    cams = compute_cams(model, x)
    assert cams.shape == (2, 64, 64) and cams.max() > 0.5


def test_torchvision_resnet_last_stage():
    from torchvision.models import resnet18

    torch.manual_seed(0)
    model = resnet18(weights=None, num_classes=5).eval()
    x = torch.rand(2, 3, 64, 64)
    assert choose_layer(model, x).name == "layer4"
    assert compute_cams(model, x, method="layercam").shape == (2, 64, 64)


def test_vit_with_registers_on_a_non_square_grid():
    torch.manual_seed(0)
    model = timm.create_model("test_vit", pretrained=False, img_size=(32, 48), patch_size=8,
                              reg_tokens=2).eval()  # fmt: skip
    x = torch.rand(2, 3, 32, 48)
    choice = choose_layer(model, x)
    assert choice.name == "blocks.5.norm1" and choice.reshape_transform is not None
    tokens = torch.randn(2, 3 + 4 * 6, 64)  # CLS + 2 registers + a 4 x 6 patch grid
    grid = choice.reshape_transform(tokens)
    assert grid.shape == (2, 64, 4, 6)
    assert torch.equal(grid[:, :, 0, 1], tokens[:, 4])  # row-major after the 3 prefix tokens
    cams = compute_cams(model, x, layer=choice)
    assert cams.shape == (2, 32, 48) and np.isfinite(cams).all() and cams.max() > 0.5


def test_token_reshape_rejects_a_token_count_with_no_grid():
    with pytest.raises(ReprlearnError, match="cannot lay 1000 tokens"):
        token_reshape((4, 4))(torch.zeros(1, 1000, 8))


def test_mlp_has_nothing_to_hook():
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16), nn.ReLU(), nn.Linear(16, 3))
    with pytest.raises(ReprlearnError, match="no convolutional or transformer block to hook"):
        compute_cams(model, torch.rand(2, 3, 8, 8))


def test_named_layer_and_unknown_layer(region_model):
    x = torch.rand(2, 3, 32, 32)
    assert choose_layer(region_model, x, "features.2").name == "features.2"
    with pytest.raises(ReprlearnError, match=r"no layer named 'features\.9'.*features\.3"):
        choose_layer(region_model, x, "features.9")
    with pytest.raises(ReprlearnError, match="gives no feature map"):
        choose_layer(region_model, x, "head.2")


def test_feature_maps_of_a_vit_show_its_blocks_on_the_patch_grid(tmp_path):
    from reprlearn.explain.feature_maps import activations, default_layers, save_feature_maps

    torch.manual_seed(0)
    model = timm.create_model("test_vit", pretrained=False, img_size=(32, 48), patch_size=8,
                              reg_tokens=2).eval()  # fmt: skip
    x = torch.rand(1, 3, 32, 48)
    layers = default_layers(model, x)
    assert len(layers) == 4 and layers[-1] == "blocks.5"
    assert activations(model, x, ["blocks.5"])["blocks.5"].shape == (64, 4, 6)
    path, shown = save_feature_maps(model, x, tmp_path / "maps.png", channels=4)
    assert path.is_file() and shown == layers
