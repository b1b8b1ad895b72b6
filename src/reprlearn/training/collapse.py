"""Collapse diagnostics of an embedding matrix ``(n, d)``.

* :func:`normalized_std`: std over samples of the L2-normalised embeddings, averaged over
  dimensions. About ``1/sqrt(d)`` for well spread embeddings, 0 when every item maps
  to the same direction (SimSiam, Chen & He 2021, Sec. 4.1 / Fig. 2; lightly's
  ``std_of_l2_normalized``).
* :func:`effective_rank`: RankMe, ``exp`` of the entropy of the normalised singular
  values (Garrido et al. 2023, "RankMe", Eq. 1; Roy & Vetterli 2007). 1 for a
  rank-one (collapsed) matrix, up to ``min(n, d)``.

A small local implementation; ``reprlearn.analysis.geometry`` may offer the same.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def normalized_std(z: torch.Tensor) -> float:
    """Mean over dimensions of the std over samples of ``z / ||z||``; ``z (n, d)``, n >= 2."""
    return float(F.normalize(z.float(), dim=1).std(dim=0).mean())


def effective_rank(z: torch.Tensor, eps: float = 1e-7) -> float:
    """RankMe of ``z (n, d)``: ``exp(-sum p_k log p_k)``, ``p = sigma / ||sigma||_1 + eps``."""
    s = torch.linalg.svdvals(z.double())
    if float(s.sum()) == 0.0:
        return 1.0
    p = s / s.sum() + eps
    return float(torch.exp(-(p * p.log()).sum()))


def is_collapsed(
    std: float, dim: int, rank: float, ratio: float = 0.01, min_rank: float = 2.0
) -> bool:
    """True when ``std * sqrt(dim) < ratio`` (spread 100x below 1/sqrt(d)) or the effective
    rank is below ``min_rank`` (all items on about one direction).

    Non-negative (ReLU) features of a healthy small CNN on digits measure
    ``std * sqrt(d)`` = 0.03-0.5 and effective rank >= 3; an invariance-only VICReg falls
    to rank 1.4-1.6 within two epochs.
    """
    return std * math.sqrt(dim) < ratio or rank < min_rank
