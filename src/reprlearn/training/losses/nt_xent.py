"""NT-Xent (normalised temperature-scaled cross entropy), SimCLR's contrastive loss.

Source: Chen, Kornblith, Norouzi, Hinton, "A Simple Framework for Contrastive Learning
of Visual Representations" (ICML 2020), Eq. 1 and Algorithm 1.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F


def _gather(z: torch.Tensor) -> tuple[torch.Tensor, int]:
    """All ranks' ``z`` concatenated (gradients flow back to every rank) and this rank."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return z, 0
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(z), dim=0), dist.get_rank()


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
            negatives too (the paper's global batch), with gradients through the gather.

    Returns:
        scalar tensor.

    Raises:
        ValueError: shapes differ or the batch has fewer than 2 items.
    """
    if z1.shape != z2.shape or z1.ndim != 2 or z1.shape[0] < 2:
        raise ValueError(f"nt_xent needs two (B>=2, dim) tensors, got {z1.shape} and {z2.shape}")
    b = z1.shape[0]
    z1, z2 = F.normalize(z1.float(), dim=1), F.normalize(z2.float(), dim=1)
    (a1, rank), (a2, _) = _gather(z1) if gather else (z1, 0), _gather(z2) if gather else (z2, 0)
    n = a1.shape[0]  # global batch
    anchors = torch.cat([z1, z2])  # (2B, d), local
    logits = anchors @ torch.cat([a1, a2]).T / temperature  # (2B, 2N)
    local = torch.arange(b, device=z1.device) + rank * b
    self_cols = torch.cat([local, local + n])
    logits[torch.arange(2 * b, device=z1.device), self_cols] = float("-inf")
    targets = torch.cat([local + n, local])
    return F.cross_entropy(logits, targets)
