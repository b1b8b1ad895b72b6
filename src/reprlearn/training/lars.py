"""LARS: SGD with momentum and a layer-wise trust ratio, the optimiser of SimCLR/BYOL/VICReg.

Source: You, Gitman, Ginsburg 2017, "Large Batch Training of Convolutional Networks";
this follows facebookresearch/vicreg ``main_vicreg.py`` (class ``LARS``): weight decay and
adaptation skip 1-d parameters (biases, norm layers).
"""

from __future__ import annotations

import torch


class LARS(torch.optim.Optimizer):
    """LARS optimiser.

    Args:
        params: parameters or groups.
        lr: learning rate (the papers scale it as ``base_lr * batch_size / 256``).
        weight_decay: L2 penalty on >= 2-d parameters (default 1e-6).
        momentum: heavy-ball momentum (default 0.9).
        eta: trust coefficient (default 0.001).
    """

    def __init__(self, params, lr: float, weight_decay: float = 1e-6, momentum: float = 0.9,
                 eta: float = 0.001) -> None:  # fmt: skip
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
                                  "eta": eta})  # fmt: skip

    @torch.no_grad()
    def step(self, closure=None):
        """One update; ``closure`` re-evaluates the loss (as Lightning passes it)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                dp = p.grad
                if p.ndim > 1:
                    dp = dp.add(p, alpha=g["weight_decay"])
                    pn, un = torch.norm(p), torch.norm(dp)
                    one = torch.ones_like(pn)
                    q = torch.where(pn > 0, torch.where(un > 0, g["eta"] * pn / un, one), one)
                    dp = dp.mul(q)
                state = self.state[p]
                if "mu" not in state:
                    state["mu"] = torch.zeros_like(p)
                state["mu"].mul_(g["momentum"]).add_(dp)
                p.add_(state["mu"], alpha=-g["lr"])
        return loss
