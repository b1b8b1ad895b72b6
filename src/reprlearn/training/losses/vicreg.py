"""VICReg loss: variance, invariance and covariance terms.

Source: Bardes, Ponce, LeCun, "VICReg: Variance-Invariance-Covariance Regularization for
Self-Supervised Learning" (ICLR 2022), Eqs. 1-6; defaults lambda=mu=25, nu=1, gamma=1,
eps=1e-4 as in the paper and facebookresearch/vicreg ``main_vicreg.py``.

Under DDP the three terms are computed on the global batch, gathered from every rank with
gradients (as ``main_vicreg.py``'s ``FullGatherLayer``): the variance and covariance are
statistics of the whole batch, not of each device's slice, so the loss equals the
single-process loss of the concatenated batch on every rank.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from reprlearn.training.distributed import gather_with_grad


def variance_term(z: torch.Tensor, gamma: float = 1.0, eps: float = 1e-4) -> torch.Tensor:
    """Hinge on the per-dimension std: ``mean_j relu(gamma - sqrt(Var(z_j) + eps))``; ``z (B, d)``."""
    std = torch.sqrt(z.var(dim=0) + eps)
    return F.relu(gamma - std).mean()


def covariance_term(z: torch.Tensor) -> torch.Tensor:
    """Sum of squared off-diagonal covariances divided by ``d``; ``z (B, d)``."""
    b, d = z.shape
    z = z - z.mean(dim=0)
    cov = (z.T @ z) / (b - 1)
    off = cov - torch.diag(torch.diagonal(cov))
    return off.pow(2).sum() / d


def vicreg_loss(
    z1: torch.Tensor,
    z2: torch.Tensor,
    invariance_weight: float = 25.0,
    variance_weight: float = 25.0,
    covariance_weight: float = 1.0,
    gamma: float = 1.0,
    eps: float = 1e-4,
    gather: bool = True,
) -> dict[str, torch.Tensor]:
    """VICReg loss of two views' expander outputs ``z1, z2 (B, d)``.

    Returns a dict: ``"loss"`` (weighted sum), ``"invariance"`` (MSE between views),
    ``"variance"`` (mean of both views' variance terms), ``"covariance"`` (sum over both
    views), the unweighted terms for logging.

    ``gather``: under ``torch.distributed``, compute every term on the global batch
    ``(world_size * B, d)`` gathered with gradients (the paper's choice; default); with
    ``False`` each rank uses its own slice (smaller batches give noisier variance and
    covariance estimates).

    Raises:
        ValueError: shapes differ or B < 2 (the variance needs two items).
    """
    if z1.shape != z2.shape or z1.ndim != 2 or z1.shape[0] < 2:
        raise ValueError(f"vicreg_loss needs two (B>=2, d) tensors, got {z1.shape}, {z2.shape}")
    z1, z2 = z1.float(), z2.float()
    if gather:
        z1, z2 = gather_with_grad(z1), gather_with_grad(z2)
    inv = F.mse_loss(z1, z2)
    var = (variance_term(z1, gamma, eps) + variance_term(z2, gamma, eps)) / 2
    cov = covariance_term(z1) + covariance_term(z2)
    loss = invariance_weight * inv + variance_weight * var + covariance_weight * cov
    return {"loss": loss, "invariance": inv, "variance": var, "covariance": cov}
