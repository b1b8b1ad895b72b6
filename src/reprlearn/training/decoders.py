"""Decoders for autoencoders and VAEs: a code ``(B, latent_dim)`` -> an input-shaped output.

* :class:`ConvDecoder` mirrors a small CNN encoder (DCGAN-style transposed
  convolutions, Radford et al. 2016; the layout of the beta-VAE decoder of Higgins et al.
  2017): a linear layer to a ``4x4`` feature map, then stride-2 ``ConvTranspose2d``
  blocks doubling the resolution up to ``H x W`` (8x8: one block, 32x32: three).
* :class:`MLPDecoder` for vector inputs ``(B, D)`` and image sizes that are not
  ``4 * 2**k``.

Both return logits by default (``output="logits"``: pair with a Bernoulli / BCE
likelihood) or sigmoid values in ``[0, 1]`` (``output="sigmoid"``: pair with MSE).
:func:`make_decoder` picks one for an input shape.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

Output = Literal["logits", "sigmoid"]


def _finish(x: torch.Tensor, output: Output) -> torch.Tensor:
    return torch.sigmoid(x) if output == "sigmoid" else x


class ConvDecoder(nn.Module):
    """Transposed-convolution decoder: ``(B, latent_dim)`` -> ``(B, C, H, W)``.

    Args:
        latent_dim: code size.
        out_shape: ``(C, H, W)`` with ``H == W == 4 * 2**k`` (8, 16, 32, 64, ...).
        width: channels of the last block (doubling towards the 4x4 map; default 32).
        output: ``"logits"`` (default) or ``"sigmoid"``.

    Raises:
        ValueError: an image size that is not ``4 * 2**k`` with ``k >= 1``.
    """

    def __init__(
        self,
        latent_dim: int,
        out_shape: tuple[int, int, int],
        width: int = 32,
        output: Output = "logits",
    ) -> None:
        super().__init__()
        c, h, w = out_shape
        if not conv_decodable(out_shape):
            raise ValueError(f"ConvDecoder needs square images of side 4 * 2**k >= 8, got {h}x{w}")
        stages = int(math.log2(h // 4))
        chans = [width * 2 ** (stages - i) for i in range(stages + 1)]  # e.g. 128, 64, 32
        self.out_shape, self.output = (c, h, w), output
        self.fc = nn.Sequential(nn.Linear(latent_dim, chans[0] * 16), nn.ReLU())
        blocks: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:], strict=True):
            blocks += [nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1), nn.ReLU()]
        blocks.append(nn.Conv2d(chans[-1], c, 3, padding=1))
        self.net = nn.Sequential(*blocks)
        self._c0 = chans[0]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Decode ``(B, latent_dim)`` -> ``(B, C, H, W)`` logits or [0, 1] values."""
        x = self.fc(z).view(len(z), self._c0, 4, 4)
        return _finish(self.net(x), self.output)


class MLPDecoder(nn.Module):
    """MLP decoder: ``(B, latent_dim)`` -> ``(B, *out_shape)``.

    Args:
        latent_dim: code size.
        out_shape: any output shape, e.g. ``(64,)`` or ``(1, 8, 8)``.
        hidden: hidden layer widths (default ``(256, 256)``).
        output: ``"logits"`` (default) or ``"sigmoid"``.
    """

    def __init__(
        self,
        latent_dim: int,
        out_shape: tuple[int, ...],
        hidden: tuple[int, ...] = (256, 256),
        output: Output = "logits",
    ) -> None:
        super().__init__()
        self.out_shape, self.output = tuple(out_shape), output
        dims = [latent_dim, *hidden]
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(dims[-1], math.prod(out_shape)))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Decode ``(B, latent_dim)`` -> ``(B, *out_shape)``."""
        return _finish(self.net(z).view(len(z), *self.out_shape), self.output)


def conv_decodable(shape: tuple[int, ...]) -> bool:
    """True for ``(C, H, H)`` with ``H = 4 * 2**k``, ``k >= 1`` (what ConvDecoder builds)."""
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] < 8 or shape[1] % 4:
        return False
    return (shape[1] // 4) & (shape[1] // 4 - 1) == 0


def make_decoder(
    latent_dim: int, input_shape: tuple[int, ...], output: Output = "logits", width: int = 32
) -> nn.Module:
    """A :class:`ConvDecoder` for ``(C, 4*2**k, 4*2**k)`` images, else an :class:`MLPDecoder`."""
    if conv_decodable(tuple(input_shape)):
        return ConvDecoder(latent_dim, tuple(input_shape), width=width, output=output)
    return MLPDecoder(latent_dim, tuple(input_shape), output=output)
