"""The energy-based pointing game: the share of a map's energy inside the object's mask.

Wang et al. 2020, "Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural
Networks" (CVPR workshops), Sec. 5.3: ``sum(cam[mask]) / sum(cam)``. A map that attends only
to the object scores 1.0; a uniform map scores the mask's area share; a model that looks at
a shortcut outside the object scores low.
"""

from __future__ import annotations

import numpy as np

from reprlearn.errors import DataError


def energy_inside(cams: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Share of each map's energy inside its mask.

    Args:
        cams: non-negative maps ``(n, H, W)`` (e.g. :func:`reprlearn.explain.compute_cams`).
        masks: object masks, bool ``(n, H, W)``, same shape.

    Returns:
        float64 ``(n,)`` in [0, 1]; NaN for a map with no energy at all (all zeros: nothing
        to point with), so averages use ``np.nanmean`` and count those apart.

    Raises:
        DataError: shapes differ, or a map has negative values.
    """
    cams = np.asarray(cams, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    if cams.shape != masks.shape or cams.ndim != 3:
        raise DataError(
            f"energy_inside needs maps and masks of the same (n, H, W) shape; got "
            f"{cams.shape} and {masks.shape} (resize the masks to the maps' size)"
        )
    if (cams < 0).any():
        raise DataError("energy_inside needs non-negative maps (CAMs in [0, 1])")
    total = cams.sum(axis=(1, 2))
    inside = (cams * masks).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, inside / np.where(total > 0, total, 1.0), np.nan)


def resize_masks(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of bool masks ``(n, h, w)`` to ``(n, H, W)`` = ``size``."""
    masks = np.asarray(masks, dtype=bool)
    h, w = masks.shape[1:]
    rows = (np.arange(size[0]) * h // size[0]).clip(0, h - 1)
    cols = (np.arange(size[1]) * w // size[1]).clip(0, w - 1)
    return masks[:, rows][:, :, cols]
