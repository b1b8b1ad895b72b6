"""SimCLR: contrastive learning of two augmented views with the NT-Xent loss.

Source: Chen, Kornblith, Norouzi, Hinton, "A Simple Framework for Contrastive Learning of
Visual Representations" (ICML 2020): projector ``Linear-BN-ReLU-Linear`` to 128 dims
(Sec. 2.1, Appendix B.9 for CIFAR-10), temperature 0.5 on CIFAR-10.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from reprlearn.training.heads import build_mlp
from reprlearn.training.losses.nt_xent import nt_xent
from reprlearn.training.methods import register_method
from reprlearn.training.methods.base import Augment, Method


@register_method("simclr")
class SimCLR(Method):
    """SimCLR on a backbone ``(B, ...) -> (B, feat_dim)``.

    Args:
        backbone, feat_dim: the encoder being trained and its output width.
        input_shape: accepted for a uniform constructor (unused).
        proj_hidden: projector hidden width (default ``feat_dim``, as the paper's
            CIFAR ResNet: 512 -> 512 -> 128).
        proj_out: projection width (default 128).
        temperature: NT-Xent tau (default 0.5, the paper's CIFAR-10 value).
        init: projector init, ``xavier`` | ``he`` | ``default``.
    """

    #: "we aggregate BN mean and variance over all devices" (Chen et al. 2020, Sec. 2,
    #: global BN): per-device BN lets the projector cheat on local batch statistics
    sync_batchnorm = True

    def __init__(
        self,
        backbone: nn.Module,
        feat_dim: int,
        input_shape: tuple[int, ...] | None = None,
        proj_hidden: int | None = None,
        proj_out: int = 128,
        temperature: float = 0.5,
        init: str = "default",
    ) -> None:
        super().__init__(backbone, feat_dim)
        self.proj_hidden, self.proj_out = proj_hidden or feat_dim, proj_out
        self.temperature, self.init = temperature, init
        self.projector = build_mlp(feat_dim, [self.proj_hidden], proj_out, init=init)

    def training_loss(self, x: torch.Tensor, augment: Augment) -> dict[str, torch.Tensor]:
        z1 = self.projector(self.backbone(augment(x)))
        z2 = self.projector(self.backbone(augment(x)))
        return {"loss": nt_xent(z1, z2, self.temperature)}

    def config(self) -> dict[str, Any]:
        return {
            "proj_hidden": self.proj_hidden,
            "proj_out": self.proj_out,
            "temperature": self.temperature,
            "init": self.init,
        }
