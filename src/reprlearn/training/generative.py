"""Look at what an autoencoder / VAE run learned: samples, reconstructions, latent traversals.

* :func:`sample_images`: decode ``z ~ N(0, I)`` (VAE only: a plain AE has no prior);
* :func:`reconstruct_images`: ``decode(encode(x))`` (AE code / VAE posterior mean);
* :func:`traverse_latents`: one input's code, one latent dim at a time set to each of
  ``values`` (default 7 points over [-3, 3], the prior's +-3 std), the others fixed
  (the traversal plots of Higgins et al. 2017, beta-VAE, fig. 1-2);
* :func:`save_grid`: a tensor of images -> one PNG (``torchvision.utils.make_grid``).

Runs are read with :func:`reprlearn.training.checkpoint.load_run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid

from reprlearn.errors import ReprlearnError
from reprlearn.training.methods.base import Method

GENERATIVE = ("ae", "vae")


def load_generative_run(run: str | Path) -> tuple[Method, dict[str, Any]]:
    """The AE/VAE of a ``reprlearn pretrain`` run folder (eval mode, CPU) and its config.

    Raises:
        StoreError: not a run folder (from ``load_run``).
        ReprlearnError: the run's method is not ``ae`` or ``vae``.
    """
    from reprlearn.training.checkpoint import load_run

    method, config = load_run(run)
    if method.name not in GENERATIVE:
        raise ReprlearnError(
            f"{run}: trained with method {method.name!r}, which has no decoder; this needs a "
            "run of `reprlearn pretrain --method ae` or `--method vae`"
        )
    return method, config


def sample_images(method: Method, n: int = 64, seed: int = 0) -> torch.Tensor:
    """``n`` images decoded from the prior, float ``(n, C, H, W)`` in [0, 1].

    Raises:
        ReprlearnError: ``method`` is not a VAE (an AE's code space has no prior).
    """
    if method.name != "vae":
        raise ReprlearnError(
            f"sampling needs a VAE; this run is a plain autoencoder ({method.name!r}), whose "
            "codes have no prior to draw from. Train with `--method vae`, or use "
            "`reprlearn reconstruct` / `reprlearn traverse`"
        )
    with torch.no_grad():
        return method.sample(n, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def reconstruct_images(method: Method, x: torch.Tensor) -> torch.Tensor:
    """Reconstructions of ``x`` ``(n, C, H, W)`` in [0, 1] (VAE: decoded posterior mean)."""
    return method.reconstruct(x)


@torch.no_grad()
def traverse_latents(
    method: Method,
    x: torch.Tensor,
    values: torch.Tensor | None = None,
    dims: list[int] | None = None,
) -> torch.Tensor:
    """Latent traversal of one input ``x`` ``(1, C, H, W)``.

    Args:
        values: code values to set, default ``linspace(-3, 3, 7)`` (prior std units for a VAE;
            raw code units for an AE).
        dims: latent dims to vary (default all).

    Returns:
        ``(len(dims), len(values), C, H, W)`` in [0, 1]: row = dim, column = value.
    """
    values = torch.linspace(-3, 3, 7) if values is None else values
    z0 = method.embed(x[:1])[0]
    dims = list(range(z0.numel())) if dims is None else dims
    z = z0.repeat(len(dims), len(values), 1)
    for row, d in enumerate(dims):
        z[row, :, d] = values
    return method.decode(z.flatten(0, 1)).unflatten(0, (len(dims), len(values)))


def save_grid(
    images: torch.Tensor, path: str | Path, ncol: int | None = None, scale: int | None = None
) -> Path:
    """Save images ``(n, C, H, W)`` or ``(rows, cols, C, H, W)`` in [0, 1] as one PNG grid.

    Args:
        ncol: images per row (default: ``cols`` for 5-d input, else ``ceil(sqrt(n))``).
        scale: nearest-neighbour upscaling (default: to >= 64 px per image).
    """
    if images.ndim == 5:
        ncol = images.shape[1]
        images = images.flatten(0, 1)
    ncol = ncol or int(np.ceil(np.sqrt(len(images))))
    grid = make_grid(images.float().clamp(0, 1), nrow=ncol, padding=1, pad_value=0.5)
    array = (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    image = Image.fromarray(array)
    scale = scale or max(1, 64 // images.shape[-1])
    image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def load_inputs(source: str, config: dict[str, Any], n: int, start: int = 0) -> torch.Tensor:
    """Rows ``start .. start + n`` of ``source`` as run inputs: float ``(n, C, H, W)`` in [0, 1].

    Images are converted to the run's channels (``L``/``RGB``) and size, as in training.

    Raises:
        DataError: unreadable source, or no ``image`` column.
    """
    from reprlearn.data import load_dataset
    from reprlearn.errors import DataError
    from reprlearn.training.data import to_array

    ds = load_dataset(source)
    if "image" not in ds.column_names:
        raise DataError(f"{source}: needs an 'image' column; the dataset has {ds.column_names}")
    if start >= len(ds):
        raise DataError(f"{source}: has {len(ds)} rows, no row {start}")
    c, h, _ = config["input_shape"]
    rows = ds.select(range(start, min(len(ds), start + n)))["image"]
    arrays = [to_array(im, "L" if c == 1 else "RGB", h) for im in rows]
    return torch.from_numpy(np.stack(arrays)).float() / 255.0
