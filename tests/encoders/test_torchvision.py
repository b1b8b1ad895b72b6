"""``torchvision:``: classifier removed, dims of the penultimate layer, weights transforms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from reprlearn.embed import encode_items
from reprlearn.encoders import load_encoder
from reprlearn.encoders.torchvision import strip_classifier


@pytest.mark.parametrize(
    ("arch", "dim"),
    [
        ("resnet18", 512),
        ("resnet50", 2048),
        ("mobilenet_v3_small", 1024),
        ("efficientnet_b0", 1280),
    ],
)
def test_random_init_dims(arch, dim):
    enc = load_encoder(f"torchvision:{arch}", random_weights=True)
    assert enc.dim == dim
    with torch.inference_mode():
        out = enc.model(torch.zeros(2, 3, 64, 64))
    assert out.flatten(1).shape == (2, dim)


def test_resnet18_embeds_digits_with_imagenet_transform(digit_images):
    enc = load_encoder("torchvision:resnet18", random_weights=True)
    x = enc.preprocess(digit_images[0])  # weights' transforms: resize 256, crop 224
    assert x.shape == (3, 224, 224)
    X = encode_items(enc, digit_images[:6], precision="fp32")
    assert X.shape == (6, 512) and X.dtype == np.float32
    again = encode_items(enc, digit_images[:6], batch_size=3, precision="fp32")
    np.testing.assert_allclose(X, again, rtol=1e-4, atol=1e-4)
    assert (X >= 0).all()  # post-ReLU average-pooled features


def test_strip_classifier_on_vit_and_no_linear():
    from torchvision.models.vision_transformer import VisionTransformer

    model = VisionTransformer(32, 8, num_layers=1, num_heads=2, hidden_dim=16, mlp_dim=16)
    assert strip_classifier(model) == 16 and isinstance(model.heads.head, nn.Identity)
    with pytest.raises(ValueError, match="no linear"):
        strip_classifier(nn.Sequential(nn.Conv2d(3, 4, 3)))


def test_unknown_arch_or_weights():
    with pytest.raises(ValueError, match="unknown architecture"):
        load_encoder("torchvision:nonet")
    with pytest.raises(ValueError, match="IMAGENET1K_V1"):
        load_encoder("torchvision:resnet18/NOT_A_TAG")
