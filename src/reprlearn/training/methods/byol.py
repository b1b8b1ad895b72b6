"""BYOL: an online network predicts an EMA target network's projection of another view.

Source: Grill et al., "Bootstrap Your Own Latent" (NeurIPS 2020), Sec. 3: projector and
predictor ``Linear(4096)-BN-ReLU-Linear(256)``, symmetric loss, target update
``xi <- tau xi + (1 - tau) theta`` with ``tau = 1 - (1 - tau_base)(cos(pi k / K) + 1) / 2``
rising from ``tau_base = 0.996`` to 1 over the ``K`` training steps.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

from reprlearn.training.heads import build_mlp
from reprlearn.training.losses.byol import byol_loss
from reprlearn.training.methods import register_method
from reprlearn.training.methods.base import Augment, Method


def byol_tau(step: int, total_steps: int, tau_base: float = 0.996) -> float:
    """BYOL's cosine EMA schedule: ``tau_base`` at step 0, 1 at ``total_steps``."""
    progress = min(step / max(total_steps, 1), 1.0)
    return 1 - (1 - tau_base) * (math.cos(math.pi * progress) + 1) / 2


@register_method("byol")
class BYOL(Method):
    """BYOL on a backbone ``(B, ...) -> (B, feat_dim)``.

    Args:
        backbone, feat_dim: the online encoder being trained and its output width.
        input_shape: accepted for a uniform constructor (unused).
        proj_hidden, proj_out: projector (and predictor) widths (default 4096 -> 256 as
            the paper; smaller for small data).
        predictor: use the predictor (default True). ``predictor=False, tau_base=0``
            (target = online copy, stop-gradient only) collapses (paper Table 5b).
        tau_base: EMA decay at step 0 (default 0.996).
    """

    #: the projector and predictor normalise over the global batch under DDP, as BYOL's
    #: and SimCLR's cross-replica BatchNorm
    sync_batchnorm = True

    def __init__(
        self,
        backbone: nn.Module,
        feat_dim: int,
        input_shape: tuple[int, ...] | None = None,
        proj_hidden: int = 4096,
        proj_out: int = 256,
        predictor: bool = True,
        tau_base: float = 0.996,
    ) -> None:
        super().__init__(backbone, feat_dim)
        self.proj_hidden, self.proj_out = proj_hidden, proj_out
        self.use_predictor, self.tau_base = predictor, tau_base
        # a buffer, so the EMA schedule's position is checkpointed and resumes exactly
        self.register_buffer("tau", torch.tensor(tau_base, dtype=torch.float64))
        self.projector = build_mlp(feat_dim, [proj_hidden], proj_out)
        self.predictor = (
            build_mlp(proj_out, [proj_hidden], proj_out) if predictor else nn.Identity()
        )
        self.target_backbone = copy.deepcopy(backbone).requires_grad_(False)
        self.target_projector = copy.deepcopy(self.projector).requires_grad_(False)

    def _target(self, v: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.target_projector(self.target_backbone(v))

    def training_loss(self, x: torch.Tensor, augment: Augment) -> dict[str, torch.Tensor]:
        v1, v2 = augment(x), augment(x)
        p1 = self.predictor(self.projector(self.backbone(v1)))
        p2 = self.predictor(self.projector(self.backbone(v2)))
        loss = byol_loss(p1, self._target(v2)) + byol_loss(p2, self._target(v1))
        return {"loss": loss, "tau": self.tau.detach().float()}

    @torch.no_grad()
    def after_optimizer_step(self, step: int, total_steps: int) -> None:
        """EMA update of the target network, then the next step's ``tau``."""
        pairs = [(self.target_backbone, self.backbone), (self.target_projector, self.projector)]
        tau = float(self.tau)
        for target, online in pairs:
            for t, o in zip(target.parameters(), online.parameters(), strict=True):
                t.lerp_(o.detach(), 1 - tau)
            for t, o in zip(target.buffers(), online.buffers(), strict=True):
                t.copy_(o)
        self.tau.fill_(byol_tau(step + 1, total_steps, self.tau_base))

    def config(self) -> dict[str, Any]:
        return {
            "proj_hidden": self.proj_hidden,
            "proj_out": self.proj_out,
            "predictor": self.use_predictor,
            "tau_base": self.tau_base,
        }
