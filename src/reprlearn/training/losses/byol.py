"""BYOL's regression loss: the normalised MSE ``2 - 2 cos(p, z)``.

Source: Grill et al., "Bootstrap Your Own Latent" (NeurIPS 2020), Eq. 2.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def byol_loss(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``||p/|p| - z/|z|||^2 = 2 - 2 cos(p, z)``.

    Args:
        p: online predictions ``(B, d)``.
        z: target projections ``(B, d)``; the caller detaches them (stop-gradient).

    Returns:
        scalar tensor in [0, 4].
    """
    if p.shape != z.shape:
        raise ValueError(f"byol_loss needs equal shapes, got {p.shape} and {z.shape}")
    return (2 - 2 * F.cosine_similarity(p.float(), z.float(), dim=-1)).mean()
