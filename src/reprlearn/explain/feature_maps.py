"""Feature maps: what chosen layers of a network output for one input image.

Each row shows one layer's most active channels (highest mean activation) for the image,
each channel min-max scaled: where the input contains the pattern a channel detects, its
map lights up (Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional Networks").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from reprlearn.errors import ReprlearnError
from reprlearn.explain.layers import hookable_layers, token_reshape


def default_layers(model: nn.Module, example: torch.Tensor, k: int = 4) -> list[str]:
    """Up to ``k`` evenly spaced convolutions (always the last one), or a ViT's blocks."""
    convs = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    if len(convs) <= 1:  # a ViT has one convolution (the patch embedding): its blocks instead
        blocks = [n for n in hookable_layers(model, example) if n.split(".")[-1].isdigit()]
        convs = blocks or convs
    names = convs
    if not names:
        raise ReprlearnError("the model has no convolution or transformer block to show")
    idx = np.unique(np.linspace(0, len(names) - 1, min(k, len(names))).round().astype(int))
    return [names[i] for i in idx]


def activations(model: nn.Module, image: torch.Tensor,
                layers: Sequence[str]) -> dict[str, np.ndarray]:  # fmt: skip
    """Activations ``{layer: (C, h, w)}`` of ``layers`` for one image ``(1, C, H, W)``
    (token outputs ``(1, N, D)`` laid out on the patch grid).

    Raises:
        ReprlearnError: an unknown layer (lists the hookable ones).
    """
    found: dict[str, torch.Tensor] = {}
    handles = []
    for name in layers:
        try:
            module = model.get_submodule(name)
        except AttributeError:
            names = hookable_layers(model, image)
            raise ReprlearnError(
                f"no layer named {name!r}; layers: {', '.join(names[-40:])}"
            ) from None
        handles.append(module.register_forward_hook(
            lambda _m, _i, o, name=name: found.__setitem__(name, o[0] if isinstance(o, tuple) else o)
        ))  # fmt: skip
    try:
        with torch.no_grad():
            model.eval()(image)
    finally:
        for h in handles:
            h.remove()
    reshape = token_reshape(tuple(image.shape[-2:]))
    out = {}
    for name in layers:
        a = found[name]
        a = reshape(a) if a.ndim == 3 else a
        if a.ndim != 4:
            raise ReprlearnError(f"layer {name!r} gives no feature map (shape {tuple(a.shape)})")
        out[name] = a[0].float().cpu().numpy()
    return out


def save_feature_maps(model: nn.Module, image: torch.Tensor, out: str | Path, *,
                      layers: Sequence[str] | None = None, channels: int = 8,
                      display: np.ndarray | None = None, title: str = "") -> tuple[Path, list[str]]:  # fmt: skip
    """Draw the ``channels`` most active maps of each layer for ``image`` ``(1, C, H, W)``.

    Args:
        display: the input as float ``(H, W, 3)`` in [0, 1], drawn first in each row.

    Returns:
        ``(out path, layer names)``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = list(layers) if layers else default_layers(model, image)
    acts = activations(model, image, layers)
    cols = channels + (display is not None)
    fig, axes = plt.subplots(len(layers), cols, figsize=(cols * 1.0, len(layers) * 1.1 + 0.3),
                             squeeze=False)  # fmt: skip
    for ax in axes.flat:
        ax.axis("off")
    for r, name in enumerate(layers):
        a = acts[name]
        top = np.argsort(-a.mean(axis=(1, 2)))[:channels]
        start = 0
        if display is not None:
            axes[r, 0].imshow(display)
            start = 1
        axes[r, start].set_title(f"{name} ({a.shape[0]}x{a.shape[1]}x{a.shape[2]})",
                                 fontsize=6, loc="left")  # fmt: skip
        for j, ch in enumerate(top):
            axes[r, start + j].imshow(a[ch], cmap="viridis", interpolation="nearest")
    if title:
        fig.suptitle(title, fontsize=8)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out, layers
