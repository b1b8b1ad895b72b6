"""VICReg: variance-invariance-covariance regularisation of an expander's outputs.

Source: Bardes, Ponce, LeCun, "VICReg" (ICLR 2022): expander of three linear layers
(8192 wide on ImageNet; BN + ReLU between), loss weights 25/25/1 (Sec. 4.1).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from reprlearn.training.heads import build_mlp
from reprlearn.training.losses.vicreg import vicreg_loss
from reprlearn.training.methods import register_method
from reprlearn.training.methods.base import Augment, Method


@register_method("vicreg")
class VICReg(Method):
    """VICReg on a backbone ``(B, ...) -> (B, feat_dim)``.

    Args:
        backbone, feat_dim: the encoder being trained and its output width.
        input_shape: accepted for a uniform constructor (unused).
        expander_dim: width of the expander's three layers (default 2048; the paper
            uses 8192 for ResNet-50 on ImageNet).
        invariance_weight, variance_weight, covariance_weight: lambda, mu, nu (25, 25, 1).
        expander_norm: ``batch`` (paper) | ``layer`` | ``none``.

    ``variance_weight=0, covariance_weight=0`` leaves only the invariance term, which a
    constant representation minimises: a configuration that collapses (for tests and
    teaching).
    """

    #: the expander normalises over the global batch under DDP (main_vicreg.py converts
    #: the model with nn.SyncBatchNorm.convert_sync_batchnorm)
    sync_batchnorm = True

    def __init__(
        self,
        backbone: nn.Module,
        feat_dim: int,
        input_shape: tuple[int, ...] | None = None,
        expander_dim: int = 2048,
        invariance_weight: float = 25.0,
        variance_weight: float = 25.0,
        covariance_weight: float = 1.0,
        expander_norm: str = "batch",
    ) -> None:
        super().__init__(backbone, feat_dim)
        self.expander_dim, self.expander_norm = expander_dim, expander_norm
        self.weights = (invariance_weight, variance_weight, covariance_weight)
        self.expander = build_mlp(
            feat_dim, [expander_dim, expander_dim], expander_dim, norm=expander_norm
        )

    def training_loss(self, x: torch.Tensor, augment: Augment) -> dict[str, torch.Tensor]:
        z1 = self.expander(self.backbone(augment(x)))
        z2 = self.expander(self.backbone(augment(x)))
        return vicreg_loss(z1, z2, *self.weights)

    def config(self) -> dict[str, Any]:
        inv, var, cov = self.weights
        return {
            "expander_dim": self.expander_dim,
            "invariance_weight": inv,
            "variance_weight": var,
            "covariance_weight": cov,
            "expander_norm": self.expander_norm,
        }
