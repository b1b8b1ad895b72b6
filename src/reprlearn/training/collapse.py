"""The collapse rule of the pretraining monitor.

The statistics come from :mod:`reprlearn.analysis.geometry`: ``normalized_std`` (std over
samples of the L2-normalised embeddings, averaged over dimensions; about ``1/sqrt(d)``
when well spread, 0 when every item maps to one direction: SimSiam, Chen & He 2021,
Sec. 4.1) and ``effective_rank`` (RankMe, Garrido et al. 2023).
"""

from __future__ import annotations

import math


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
