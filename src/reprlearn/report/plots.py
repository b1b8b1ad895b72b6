"""Plots of the comparison report (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def label_efficiency_plot(
    curves: Mapping[str, Mapping[str, Sequence[float]]], path: str | Path, title: str = ""
) -> Path:
    """Linear-probe accuracy vs labels per class, one line (mean +- std band) per encoder.

    Args:
        curves: ``{encoder: {"labels_per_class": [1, 2, 5, ...], "mean": [...],
            "std": [...]}}``; accuracies in [0, 1]; the last point may be the full
            training set (its mean labels per class).
        path: the PNG to write.
    Returns:
        ``path``.
    """
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=150)
    for name, c in curves.items():
        x, m, s = c["labels_per_class"], [100 * v for v in c["mean"]], [100 * v for v in c["std"]]
        ax.plot(x, m, marker="o", label=name, linewidth=2)
        ax.fill_between(
            x,
            [a - b for a, b in zip(m, s, strict=True)],
            [a + b for a, b in zip(m, s, strict=True)],
            alpha=0.15,
        )
    ax.set_xscale("log")
    ax.set_xlabel("labelled examples per class (log scale; last point = all labels)")
    ax.set_ylabel("linear probe accuracy (%)")
    ax.set_title(title or "label efficiency")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def ranking_bar_plot(
    scores: Mapping[str, tuple[float, float]], path: str | Path, metric: str
) -> Path:
    """Horizontal bars of a score (mean, spread) per encoder, best on top."""
    items = sorted(scores.items(), key=lambda kv: kv[1][0])
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(items) + 1.2), dpi=150)
    names = [k for k, _ in items]
    ax.barh(
        names,
        [100 * v[0] for _, v in items],
        xerr=[100 * v[1] for _, v in items],
        color="#4c72b0",
        alpha=0.85,
        capsize=3,
    )
    ax.set_xlabel(f"{metric} (%)")
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
