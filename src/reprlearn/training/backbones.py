"""Backbones trained by self-supervised methods: ``small_cnn``, ``resnet18_cifar``, ``mlp``.

Every backbone starts with :class:`Normalize` (per-channel mean/std held as buffers), so
methods and exported encoders feed images in [0, 1] and the normalisation travels with
the weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

BACKBONES = ("small_cnn", "resnet18_cifar", "mlp")


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel; ``x (B, C, H, W)`` or ``(B, D)`` in [0, 1]."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32))
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1, 1, 1) if x.ndim == 4 else (1, -1)
        mean, std = self.mean.to(x.dtype).view(shape), self.std.to(x.dtype).view(shape)
        if x.ndim == 2 and mean.shape[1] != x.shape[1]:  # one scalar for all features
            mean, std = mean.mean(), std.mean()
        return (x - mean) / std


def small_cnn(in_channels: int, image_size: int, width: int = 32) -> tuple[nn.Module, int]:
    """A VGG-style CNN for small images (8x8 digits, 28-32 px): ``(B, C, H, W) -> (B, 4*width)``.

    Conv3x3-BN-ReLU blocks at ``width, 2*width, 4*width`` channels, halving the resolution
    (max-pool) after each block while it is above 4 px, then global average pooling.
    """
    layers: list[nn.Module] = []
    channels, size = in_channels, image_size
    for c in (width, 2 * width, 4 * width):
        layers += [nn.Conv2d(channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
        layers += [nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
        if size > 4:
            layers.append(nn.MaxPool2d(2))
            size //= 2
        channels = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers), channels


def resnet18_cifar(in_channels: int, image_size: int) -> tuple[nn.Module, int]:
    """CIFAR-style ResNet-18: torchvision's resnet18 with a 3x3 stride-1 stem and no max-pool.

    ``(B, C, H, W) -> (B, 512)`` (``fc`` = Identity). Source: He et al. 2016 Sec. 4.2 and
    the SimCLR paper's CIFAR-10 variant (Chen et al. 2020, Appendix B.9).
    """
    from torchvision.models import resnet18

    net = resnet18(weights=None)
    net.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
    net.maxpool = nn.Identity()
    net.fc = nn.Identity()
    return net, 512


def mlp(in_channels: int, image_size: int, hidden: int = 512) -> tuple[nn.Module, int]:
    """An MLP on flattened inputs: ``(B, C, H, W)`` or ``(B, D) -> (B, hidden)``.

    ``Flatten -> Linear(hidden) -> BN -> ReLU -> Linear(hidden) -> BN -> ReLU``.
    ``image_size`` 1 means vector inputs with ``in_channels`` features.
    """
    d = in_channels * image_size * image_size
    net = nn.Sequential(
        nn.Flatten(),
        nn.Linear(d, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
        nn.Linear(hidden, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
    )  # fmt: skip
    return net, hidden


def build_backbone(
    name: str,
    in_channels: int,
    image_size: int,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> tuple[nn.Module, int]:
    """Build backbone ``name`` for ``(B, in_channels, image_size, image_size)`` inputs in [0, 1].

    Args:
        name: one of :data:`BACKBONES`.
        in_channels, image_size: input shape (square images; ``image_size=1`` for vectors).
        mean, std: per-channel normalisation constants (default 0 and 1: none).

    Returns:
        ``(module, feat_dim)``: ``module`` maps inputs to ``(B, feat_dim)``.

    Raises:
        ValueError: unknown name.
    """
    builders = {"small_cnn": small_cnn, "resnet18_cifar": resnet18_cifar, "mlp": mlp}
    if name not in builders:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    net, feat_dim = builders[name](in_channels, image_size)
    norm = Normalize(mean or [0.0] * in_channels, std or [1.0] * in_channels)
    return nn.Sequential(norm, net), feat_dim
