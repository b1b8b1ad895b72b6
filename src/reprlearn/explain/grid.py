"""A grid of CAM overlays: each image with its map on top, titled with true/predicted labels."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def overlay(image: np.ndarray, cam: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend a ``jet``-coloured map over an image.

    Args:
        image: float ``(H, W, 3)`` in [0, 1]; cam: ``(H, W)`` in [0, 1]; alpha: map weight.

    Returns:
        float32 ``(H, W, 3)`` in [0, 1].
    """
    from matplotlib import colormaps

    heat = colormaps["jet"](np.clip(cam, 0, 1))[..., :3]
    return ((1 - alpha) * image + alpha * heat).astype(np.float32)


def save_cam_grid(
    images: np.ndarray,
    cams: np.ndarray,
    out: str | Path,
    *,
    titles: Sequence[str] | None = None,
    wrong: Sequence[bool] | None = None,
    suptitle: str = "",
    cols: int = 8,
) -> Path:
    """Write a PNG grid: per item the image (left) and the overlay (right).

    Args:
        images: float ``(n, H, W, 3)`` in [0, 1] at the maps' size; cams: ``(n, H, W)``.
        out: the PNG path; titles: one line per item (e.g. ``"true: 3 / pred: 8"``);
        wrong: per item, True draws its title in red (a misclassified item);
        suptitle: the figure's title (method, layer, model); cols: items per row.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(images)
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, 2 * cols, figsize=(2.4 * cols, 1.4 * rows + 0.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        r, c = divmod(i, cols)
        axes[r, 2 * c].imshow(images[i], interpolation="nearest")
        axes[r, 2 * c + 1].imshow(overlay(images[i], cams[i]), interpolation="nearest")
        if titles is not None:
            red = wrong is not None and wrong[i]
            axes[r, 2 * c].set_title(titles[i], fontsize=7, loc="left",
                                     color="red" if red else "black")  # fmt: skip
    if suptitle:
        fig.suptitle(suptitle, fontsize=9)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
