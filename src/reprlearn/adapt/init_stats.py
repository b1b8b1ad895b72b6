"""``init-stats``: activation statistics of a deep MLP at initialisation, per init x activation.

Builds ``depth`` hidden layers of ``width`` units (:func:`reprlearn.training.heads.build_mlp`,
no normalisation), feeds standard normal inputs and records every hidden activation:
std, saturated share (sigmoid < 0.01 or > 0.99, |tanh| > 0.99) and dead-ReLU share. This
is the experiment behind Glorot & Bengio 2010 (Figs. 3-6: sigmoid saturation, shrinking
variance) and He et al. 2015 (Sec. 2.2: ReLU needs std sqrt(2 / fan_in)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from reprlearn.adapt.activations import ACTIVATION_TYPES, dead_share, saturated_share
from reprlearn.evaluation.result import ResultMixin
from reprlearn.training.heads import build_mlp, parse_init

DEFAULT_INITS = ("zeros", "normal:1", "normal:0.01", "xavier", "he")
DEFAULT_ACTIVATIONS = ("sigmoid", "tanh", "relu")


@dataclass
class InitStatsResult(ResultMixin):
    """``results``: one ``{"init", "activation", "layers": [{"layer", "mean", "std",
    "saturated", "dead"}, ...]}`` per combination; ``samples``: per combination, per layer,
    a sample of activation values (for the histograms)."""

    results: list[dict[str, Any]]
    depth: int
    width: int
    samples: dict[tuple[str, str], list[np.ndarray]] = field(default_factory=dict, repr=False)
    title = "init-stats"

    def to_dict(self) -> dict[str, Any]:
        return {"results": self.results, "depth": self.depth, "width": self.width}


@torch.no_grad()
def layer_activations(init: str, activation: str, *, depth: int = 10, width: int = 512,
                      n: int = 1000, seed: int = 0) -> list[torch.Tensor]:  # fmt: skip
    """The ``depth`` hidden activations ``(n, width)`` of a fresh MLP on N(0, 1) inputs.

    Raises:
        ValueError: unknown init or activation.
    """
    parse_init(init)
    torch.manual_seed(seed)
    mlp = build_mlp(width, [width] * depth, 1, norm="none", init=init, activation=activation)
    x = torch.randn(n, width, generator=torch.Generator().manual_seed(seed))
    outs = []
    for module in mlp:
        x = module(x)
        if isinstance(module, ACTIVATION_TYPES) or (
            activation == "identity" and isinstance(module, torch.nn.Identity)
        ):
            outs.append(x)
    return outs


def init_stats(
    inits: Sequence[str] = DEFAULT_INITS,
    activations: Sequence[str] = DEFAULT_ACTIVATIONS,
    *,
    depth: int = 10,
    width: int = 512,
    n: int = 1000,
    seed: int = 0,
    out: str | Path | None = None,
) -> InitStatsResult:
    """Per-layer activation statistics for each ``init`` x ``activation``.

    Args:
        inits: ``zeros``, ``normal:STD``, ``xavier``, ``he``, ``default``.
        activations: ``sigmoid``, ``tanh``, ``relu``, ``gelu``.
        depth, width: hidden layers and units per layer (default 10 x 512).
        n: standard-normal input rows (default 1000). seed: weights and inputs.
        out: a PNG of per-layer activation histograms (rows: inits; columns: activations).

    Returns:
        :class:`InitStatsResult`.

    Raises:
        ValueError: unknown init or activation; depth or width < 1.
    """
    if depth < 1 or width < 1:
        raise ValueError(f"--depth and --width must be >= 1 (got {depth}, {width})")
    results, samples = [], {}
    rng = np.random.default_rng(seed)
    for init in inits:
        for act in activations:
            outs = layer_activations(init, act, depth=depth, width=width, n=n, seed=seed)
            kind = _kind(act)
            layers = [{"layer": i + 1, "mean": float(a.mean()), "std": float(a.std()),
                       "saturated": saturated_share(a, kind), "dead": dead_share(a, kind)}
                      for i, a in enumerate(outs)]  # fmt: skip
            results.append({"init": init, "activation": act, "layers": layers})
            samples[(init, act)] = [
                rng.choice(a.flatten().numpy(), size=min(5000, a.numel()), replace=False)
                for a in outs
            ]
    result = InitStatsResult(results, depth, width, samples)
    if out is not None:
        plot_init_stats(result, out)
    return result


def _kind(activation: str):
    from reprlearn.training.heads import ACTIVATIONS

    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[activation]


def plot_init_stats(result: InitStatsResult, path: str | Path) -> Path:
    """Histograms of every layer's activations, one panel per init x activation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inits = list(dict.fromkeys(r["init"] for r in result.results))
    acts = list(dict.fromkeys(r["activation"] for r in result.results))
    fig, axes = plt.subplots(len(inits), len(acts), figsize=(3.4 * len(acts), 2.3 * len(inits)),
                             squeeze=False)  # fmt: skip
    colors = plt.cm.viridis(np.linspace(0, 1, result.depth))
    for r in result.results:
        ax = axes[inits.index(r["init"])][acts.index(r["activation"])]
        values = result.samples[(r["init"], r["activation"])]
        hi = max(float(np.abs(v).max()) for v in values) or 1.0
        bins = np.linspace(-hi if min(v.min() for v in values) < 0 else 0, hi, 60)
        for i, v in enumerate(values):
            ax.hist(v, bins=bins, histtype="step", color=colors[i], density=True,
                    label=f"layer {i + 1}" if i in (0, len(values) - 1) else None)  # fmt: skip
        last = r["layers"][-1]
        ax.set_title(f"{r['init']} / {r['activation']}: std L{len(values)} {last['std']:.2g}",
                     fontsize=8)  # fmt: skip
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=6)
    fig.suptitle(f"activations per layer at initialisation ({result.depth} x {result.width} MLP, "
                 "N(0,1) inputs)", fontsize=9)  # fmt: skip
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
