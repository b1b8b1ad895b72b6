"""Undercomplete (and denoising) autoencoder: backbone -> linear code -> decoder.

An autoencoder learns a code ``h = f(x)`` of ``latent_dim`` < input dims by minimising
the reconstruction error of ``g(h)`` (Goodfellow et al., Deep Learning, ch. 14.1). The
denoising variant corrupts the input with Gaussian noise and reconstructs the clean
input (Vincent et al. 2008, "Extracting and composing robust features with denoising
autoencoders"; ch. 14.5).

Inputs are expected in ``[0, 1]`` (pixels / 255), shape ``(B, C, H, W)`` or ``(B, D)``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reprlearn.training.decoders import make_decoder
from reprlearn.training.methods import register_method
from reprlearn.training.methods.base import Augment, Method

LOSSES = ("mse", "bce")


def check_recon_options(loss: str, latent_dim: int, input_shape: tuple[int, ...] | None) -> None:
    """Validate the options shared by the AE and the VAE.

    Raises:
        ValueError: unknown ``loss``, ``latent_dim`` < 1 or no ``input_shape``.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if latent_dim < 1:
        raise ValueError(f"latent_dim must be >= 1, got {latent_dim}")
    if not input_shape:
        raise ValueError("reconstruction methods need input_shape=(C, H, W) or (D,)")


def check_unit_range(x: torch.Tensor, loss: str) -> None:
    """BCE targets must lie in [0, 1]; raise a clear error for normalised inputs.

    Raises:
        ValueError: ``loss == "bce"`` and ``x`` has values outside ``[0, 1]``.
    """
    if loss == "bce" and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            "loss='bce' needs inputs in [0, 1] (pixels / 255), got values in "
            f"[{x.min().item():.3g}, {x.max().item():.3g}]: turn off mean/std normalisation "
            "for reconstruction methods or use loss='mse'"
        )


@register_method("ae")
class Autoencoder(Method):
    """Autoencoder: code = ``Linear(backbone(x))`` ``(B, latent_dim)``; decoder rebuilds ``x``.

    Args:
        backbone: feature extractor ``(B, *input_shape)`` -> ``(B, feat_dim)``.
        feat_dim: backbone output size.
        input_shape: ``(C, H, W)`` or ``(D,)`` of one input (the decoder's output shape).
        latent_dim: code size (default 16).
        loss: ``"mse"`` (default; squared error of sigmoid outputs) or ``"bce"`` (binary
            cross-entropy on logits; inputs must lie in [0, 1]). Both are averaged over
            pixels and batch.
        denoising: std of the Gaussian noise added to the input (0 = plain AE; default 0).
        decoder_width: channels of the conv decoder's last block (default 32).

    Raises:
        ValueError: unknown loss, ``latent_dim`` < 1, negative ``denoising``.
    """

    def __init__(
        self,
        backbone: nn.Module,
        feat_dim: int,
        input_shape: tuple[int, ...] | None = None,
        latent_dim: int = 16,
        loss: str = "mse",
        denoising: float = 0.0,
        decoder_width: int = 32,
    ) -> None:
        super().__init__(backbone, feat_dim)
        check_recon_options(loss, latent_dim, input_shape)
        if denoising < 0:
            raise ValueError(f"denoising noise std must be >= 0, got {denoising}")
        self.input_shape = tuple(int(s) for s in input_shape)
        self.latent_dim, self.loss, self.denoising = int(latent_dim), loss, float(denoising)
        self.decoder_width = int(decoder_width)
        self.head = nn.Linear(feat_dim, self.latent_dim)
        self.decoder = make_decoder(self.latent_dim, self.input_shape, "logits", decoder_width)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code ``(B, latent_dim)``."""
        return self.head(self.backbone(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction in ``[0, 1]``, ``(B, *input_shape)``."""
        return torch.sigmoid(self.decoder(z))

    def training_loss(self, x: torch.Tensor, augment: Augment) -> dict[str, torch.Tensor]:
        """Reconstruction loss of one batch (``augment`` is not used)."""
        check_unit_range(x, self.loss)
        noisy = x + self.denoising * torch.randn_like(x) if self.denoising else x
        logits = self.decoder(self.encode(noisy))
        if self.loss == "bce":
            recon = F.binary_cross_entropy_with_logits(logits, x)
        else:
            recon = F.mse_loss(torch.sigmoid(logits), x)
        return {"loss": recon, "recon": recon.detach()}

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The code ``(B, latent_dim)`` of the clean input."""
        return self.encode(x)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``decode(encode(x))`` in ``[0, 1]``, shape of ``x``."""
        return self.decode(self.encode(x))

    def config(self) -> dict[str, Any]:
        """Constructor options (not ``input_shape``, which the run config holds)."""
        return {
            "latent_dim": self.latent_dim,
            "loss": self.loss,
            "denoising": self.denoising,
            "decoder_width": self.decoder_width,
        }
