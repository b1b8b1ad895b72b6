"""NT-Xent (normalised temperature-scaled cross entropy), SimCLR's contrastive loss.

Source: Chen, Kornblith, Norouzi, Hinton, "A Simple Framework for Contrastive Learning
of Visual Representations" (ICML 2020), Eq. 1 and Algorithm 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from reprlearn.training.distributed import gather_with_grad, rank


def nt_xent(
    z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5, gather: bool = True
) -> torch.Tensor:
    """NT-Xent loss of two views, averaged over the ``2B`` anchors.

    For each anchor (a row of ``z1`` or ``z2``) the positive is the other view of the same
    item and the negatives are the ``2(N-1)`` other embeddings of the batch, with cosine
    similarity divided by ``temperature``.

    Args:
        z1, z2: projections of view 1 and view 2, ``(B, dim)`` (row i = item i).
        temperature: tau; the paper uses 0.5 on CIFAR-10 and 0.1 on ImageNet.
        gather: under ``torch.distributed``, use the other ranks' embeddings as
            negatives too (the paper's global batch of ``N = world_size * B`` items), with
            gradients through the gather (:func:`~reprlearn.training.distributed.gather_with_grad`).

    Returns:
        scalar tensor: the mean over this rank's ``2B`` anchors. With ``gather``, the mean
        of the ranks' losses equals the single-process loss of the concatenated batch, and
        DDP's averaged gradients equal its gradients.

    Raises:
        ValueError: shapes differ or the batch has fewer than 2 items.
    """
    if z1.shape != z2.shape or z1.ndim != 2 or z1.shape[0] < 2:
        raise ValueError(f"nt_xent needs two (B>=2, dim) tensors, got {z1.shape} and {z2.shape}")
    b = z1.shape[0]
    z1, z2 = F.normalize(z1.float(), dim=1), F.normalize(z2.float(), dim=1)
    a1, a2 = (gather_with_grad(z1), gather_with_grad(z2)) if gather else (z1, z2)
    n, r = a1.shape[0], rank() if gather else 0  # global batch, this rank's slice
    anchors = torch.cat([z1, z2])  # (2B, d), local
    logits = anchors @ torch.cat([a1, a2]).T / temperature  # (2B, 2N)
    local = torch.arange(b, device=z1.device) + r * b
    self_cols = torch.cat([local, local + n])
    logits[torch.arange(2 * b, device=z1.device), self_cols] = float("-inf")
    targets = torch.cat([local + n, local])
    return F.cross_entropy(logits, targets)
