"""The contract every pretraining method follows (SimCLR, VICReg, BYOL, AE, VAE, ...).

The Lightning module in :mod:`reprlearn.training` calls, for each batch ``x`` of
inputs ``(B, C, H, W)`` (or ``(B, D)`` for vector inputs):

1. ``out = method.training_loss(x, augment)``: a dict with ``"loss"`` (scalar tensor)
   and any other scalars to log (e.g. VICReg's ``"variance"``, a VAE's ``"kl"``);
   ``augment(x)`` returns one randomly augmented view of the batch (call it twice for
   two views; reconstruction methods may ignore it);
2. the optimiser step;
3. ``method.after_optimizer_step(step, total_steps)``: explicit per-step updates such as
   BYOL's EMA target update (never a side effect of ``forward``).

``method.embed(x)`` gives the representation used downstream ``(B, feat_dim)`` (for a
VAE, the posterior mean). ``method.backbone`` is what ``ckpt:`` encoders load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import nn

Augment = Callable[[torch.Tensor], torch.Tensor]


class Method(nn.Module):
    """Base class of pretraining methods; subclasses register with ``@register_method``."""

    name: ClassVar[str] = ""
    #: under DDP, convert BatchNorm to SyncBatchNorm (statistics of the global batch)
    sync_batchnorm: ClassVar[bool] = False

    def __init__(self, backbone: nn.Module, feat_dim: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.feat_dim = feat_dim

    def training_loss(self, x: torch.Tensor, augment: Augment) -> dict[str, torch.Tensor]:
        """Loss for one batch; must contain ``"loss"``."""
        raise NotImplementedError

    def after_optimizer_step(self, step: int, total_steps: int) -> None:
        """Called after every optimiser step (default: nothing)."""

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Downstream representation ``(B, feat_dim)``; default ``backbone(x)``."""
        return self.backbone(x)

    def config(self) -> dict[str, Any]:
        """JSON-able hyperparameters (saved beside the weights)."""
        return {}
