"""``curves.png`` of a fine-tuning run: train/val loss and accuracy against the epoch."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def finetune_curves_figure(records: list[dict[str, Any]], title: str = ""):
    """Two panels (loss, accuracy), train and validation, from ``log.jsonl`` records, on
    integer epoch ticks. lp-ft's two stages are drawn one after the other (``lp`` then
    ``ft`` epochs). Returns the matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    xs = list(range(1, len(records) + 1))
    for ax, key in zip(axes, ("loss", "acc"), strict=True):
        for split, style in (("train", "-o"), ("val", "--s")):
            pts = [(x, r.get(f"{split}_{key}")) for x, r in zip(xs, records, strict=True)]
            pts = [(x, y) for x, y in pts if y is not None]
            if pts:
                ax.plot(*zip(*pts, strict=True), style, ms=3, label=split)
        stages = [r.get("stage") for r in records]
        if "ft" in stages and "lp" in stages:
            ax.axvline(stages.index("ft") + 0.5, color="gray", lw=0.8, ls=":")
        ax.set_title(f"{title} {key}".strip())
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_finetune_curves(records: list[dict[str, Any]], path: str | Path, title: str = "") -> None:
    """:func:`finetune_curves_figure` written atomically to ``path`` (PNG)."""
    import matplotlib.pyplot as plt

    fig = finetune_curves_figure(records, title)
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
