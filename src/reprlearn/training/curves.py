"""``curves.png``: training loss, kNN accuracy and effective rank against the epoch."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def curves_figure(records: list[dict[str, Any]]):
    """Three panels (loss, kNN top-1 when labelled, effective rank) against the epoch.

    ``records`` are the ``log.jsonl`` lines (keys ``epoch``, ``loss``, ``knn_top1``,
    ``effective_rank``). Epochs are whole numbers, so the x ticks are integers.
    Returns the matplotlib Figure (Agg backend).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [r["epoch"] for r in records]
    panels = [("loss", "training loss"), ("knn_top1", "kNN accuracy (held out)"),
              ("effective_rank", "effective rank (RankMe)")]  # fmt: skip
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    for ax, (key, title) in zip(axes, panels, strict=True):
        ys = [r.get(key) for r in records]
        pts = [(e, y) for e, y in zip(epochs, ys, strict=True) if y is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", ms=3)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_curves(records: list[dict[str, Any]], path: str | Path) -> None:
    """Write :func:`curves_figure` of ``records`` to ``path`` (PNG) atomically (temp file +
    rename)."""
    import matplotlib.pyplot as plt

    fig = curves_figure(records)
    path = Path(path)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
