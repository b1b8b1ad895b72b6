"""Filters: the weights of a convolution drawn as pictures.

The first convolution of a network sees pixels, so its kernels ``(out, 3, k, k)`` are drawn
as RGB patches (Krizhevsky et al. 2012, Fig. 3: trained ones look like oriented edges and
colour blobs; random ones look like noise). A deeper convolution's kernels ``(out, in, k, k)``
are drawn as a grid of grey patches: one row per output channel, one column per input
channel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch import nn

from reprlearn.errors import ReprlearnError


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    """``(name, module)`` of every ``Conv2d`` in ``model``, in definition order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def pick_conv(model: nn.Module, layer: str | None = None) -> tuple[str, nn.Conv2d]:
    """The named convolution, or the first one (``layer=None``).

    Raises:
        ReprlearnError: no convolution in the model, or ``layer`` is not one (lists them).
    """
    convs = conv_layers(model)
    if not convs:
        raise ReprlearnError(
            "the model has no convolution (Conv2d) whose filters could be drawn; use a CNN "
            "(ckpt: run with small_cnn/resnet18_cifar, timm:, torchvision:)"
        )
    if layer is None:
        return convs[0]
    for name, module in convs:
        if name == layer:
            return name, module
    names = [n for n, _ in convs]
    raise ReprlearnError(
        f"no convolution named {layer!r}; convolutions: {', '.join(names[:60])}"
        + (f" (first 60 of {len(names)})" if len(names) > 60 else "")
    )


def _unit(a: np.ndarray) -> np.ndarray:
    lo, hi = a.min(), a.max()
    return (a - lo) / (hi - lo) if hi > lo else np.full_like(a, 0.5)


def filter_patches(weight: np.ndarray, max_out: int = 64, max_in: int = 16) -> np.ndarray:
    """Per-filter min-max scaled patches.

    Args:
        weight: ``(out, in, k, k)`` kernels.
        max_out, max_in: at most this many output / input channels.

    Returns:
        RGB ``(out', k, k, 3)`` when ``in == 3``; else grey ``(out', in', k, k)``, each in [0, 1].
    """
    w = np.asarray(weight, dtype=np.float32)[:max_out]
    if w.shape[1] == 3:
        return np.stack([_unit(f.transpose(1, 2, 0)) for f in w])
    return np.stack([[_unit(k) for k in f[:max_in]] for f in w])


def mosaic(patches: np.ndarray, cols: int, pad: int = 1) -> np.ndarray:
    """Tile patches ``(n, k, k[, 3])`` into one image, ``cols`` per row, ``pad`` px of white."""
    n, k = len(patches), patches.shape[1]
    rows = -(-n // cols)
    shape = (rows * (k + pad) + pad, cols * (k + pad) + pad, *patches.shape[3:])
    out = np.ones(shape, np.float32)
    for i, p in enumerate(patches):
        r, c = divmod(i, cols)
        out[pad + r * (k + pad) : pad + r * (k + pad) + k,
            pad + c * (k + pad) : pad + c * (k + pad) + k] = p  # fmt: skip
    return out


def filter_image(weight: np.ndarray, max_out: int = 64) -> np.ndarray:
    """One picture of the kernels ``(out, in, k, k)``.

    Returns:
        RGB ``(h, w, 3)`` in [0, 1] when ``in == 3`` (a square-ish grid of colour patches);
        else grey ``(h, w)``: a row per output channel (at most 16), a column per input
        channel (at most 16). White 1-px gaps between patches.
    """
    patches = filter_patches(weight, max_out=max_out)
    if np.asarray(weight).shape[1] == 3:
        return mosaic(patches, int(np.ceil(np.sqrt(len(patches)))))
    rows = patches[:16]
    return mosaic(rows.reshape(-1, *rows.shape[2:]), rows.shape[1])


def save_filters(model: nn.Module, out: str | Path, *, layer: str | None = None,
                 title: str = "", max_out: int = 64) -> tuple[Path, str]:  # fmt: skip
    """Draw a convolution's filters (first conv by default) to a PNG.

    Returns:
        ``(out path, layer name)``.

    Raises:
        ReprlearnError: as :func:`pick_conv`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name, conv = pick_conv(model, layer)
    image = filter_image(conv.weight.detach().float().cpu().numpy(), max_out=max_out)
    width = min(12.0, max(5.0, 2.0 + 0.06 * image.shape[1]))
    fig, ax = plt.subplots(figsize=(width, width * image.shape[0] / image.shape[1] + 0.5))
    ax.imshow(image, cmap=None if image.ndim == 3 else "gray", interpolation="nearest")
    ax.axis("off")
    shape = "x".join(map(str, conv.weight.shape))
    fig.suptitle(f"{title} {name} ({shape})".strip(), fontsize=8)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out, name
