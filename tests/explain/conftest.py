"""Fixtures for the explain tests: torch on one thread (2 shared cores), a constructed model
whose output depends only on one image region, and tiny timm / torchvision models."""

from __future__ import annotations

import pytest
import torch
from torch import nn

REGION = (slice(4, 16), slice(18, 30))  # rows, cols of a 32 x 32 image (as in test_cam.py)


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class RegionModel(nn.Module):
    """A 3-class CNN that sees only :data:`REGION` of a 32 x 32 image: the input is
    multiplied by the region's mask before two bias-free 3x3 convolutions, global average
    pooling and a linear layer. Its feature maps are zero 2 px beyond the region."""

    def __init__(self) -> None:
        super().__init__()
        mask = torch.zeros(1, 1, 32, 32)
        mask[..., REGION[0], REGION[1]] = 1
        self.register_buffer("mask", mask)
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x * self.mask))


@pytest.fixture
def region_model() -> RegionModel:
    torch.manual_seed(0)
    return RegionModel().eval()


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A real finetune run on shapes: SimCLR pretrains a ``small_cnn`` 1 epoch on 128 shapes
    at 16 px, then ``finetune --strategy full`` trains it 1 epoch on 200 shapes
    (about 13 s on one thread). Returns the finetune run folder."""
    from reprlearn.adapt.finetune import finetune
    from reprlearn.training.pretrain import pretrain

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("explain")
    pretrain("shapes:300", method="simclr", backbone="small_cnn", out=root / "ssl", epochs=1,
             batch_size=64, max_items=128, image_size=16, precision="fp32", progress=False,
             method_options={"proj_hidden": 32, "proj_out": 16})  # fmt: skip
    finetune("shapes:200", f"ckpt:{root / 'ssl'}", strategy="full", out=root / "ft", epochs=1,
             batch_size=64, precision="fp32", progress=False, min_steps=1)  # fmt: skip
    return root / "ft"
