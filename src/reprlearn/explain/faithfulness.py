"""Faithfulness of a map: does removing what it highlights change the model's score?

* **ROAD** (Rong et al. 2022, "A Consistent and Efficient Evaluation Strategy for
  Attribution Methods", ICML): pixels are removed by noisy linear imputation (so the model
  cannot tell *where* pixels were removed) at 10%...90% of the map's pixels, most relevant
  first (MoRF) and least relevant first (LeRF); grad-cam's ``ROADCombined`` reports
  ``(LeRF - MoRF) / 2`` of the target-score change, averaged over the percentiles. Higher =
  more faithful.
* the **deletion curve** (Petsiuk et al. 2018, RISE): the target-score change after removing
  the top ``p``% most relevant pixels (grad-cam's ``ROADMostRelevantFirst`` imputation),
  for each ``p``; a faithful map makes the score fall fast. Its mean over ``p`` is the
  (imputed) deletion area.

Cost: one sparse linear solve per image and percentile (fast at 32 px; seconds at 224 px).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

PERCENTILES = (10, 20, 30, 40, 50, 60, 70, 80, 90)


def road_combined(model: nn.Module, images: torch.Tensor, cams: np.ndarray,
                  targets: Sequence[Callable],
                  percentiles: Sequence[int] = PERCENTILES) -> np.ndarray:  # fmt: skip
    """grad-cam's ``ROADCombined`` per image: float32 ``(n,)`` (target-score units).

    Args:
        model: images -> outputs; images: ``(n, C, H, W)``; cams: ``(n, H, W)`` in [0, 1];
        targets: one callable per image (output ``(classes,)`` -> scalar).
    """
    from pytorch_grad_cam.metrics.road import ROADCombined

    torch.manual_seed(0)  # the imputer's noise
    with torch.no_grad():
        return np.asarray(ROADCombined(percentiles=list(percentiles))(
            images, cams, list(targets), model), dtype=np.float32)  # fmt: skip


def deletion_curve(model: nn.Module, images: torch.Tensor, cams: np.ndarray,
                   targets: Sequence[Callable],
                   percentiles: Sequence[int] = PERCENTILES) -> dict[int, float]:  # fmt: skip
    """Mean target-score change after removing the top ``p``% pixels, per ``p``.

    Returns:
        ``{p: mean change}`` (negative: the score fell), ``p`` in ``percentiles``.
    """
    from pytorch_grad_cam.metrics.road import ROADMostRelevantFirst

    torch.manual_seed(0)
    curve = {}
    with torch.no_grad():
        for p in percentiles:
            scores = ROADMostRelevantFirst(percentile=p)(images, cams, list(targets), model)
            curve[int(p)] = float(np.mean(scores))
    return curve
