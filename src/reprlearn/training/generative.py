"""Look at what an autoencoder / VAE run learned: samples, reconstructions, latent traversals.

* :func:`sample_images`: decode ``z ~ N(0, I)`` (VAE only: a plain AE has no prior);
* :func:`reconstruct_images`: ``decode(encode(x))`` (AE code / VAE posterior mean);
* :func:`traverse_latents`: one input's code, one latent dim at a time set to each of
  ``values`` (default 7 points over [-3, 3], the prior's +-3 std), the others fixed
  (the traversal plots of Higgins et al. 2017, beta-VAE, fig. 1-2);
* :func:`~reprlearn.training.image_grid.save_grid` (re-exported): images -> one PNG preview.

Runs are read with :func:`reprlearn.training.checkpoint.load_run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from reprlearn.errors import ReprlearnError
from reprlearn.training.image_grid import save_grid
from reprlearn.training.methods.base import Method

GENERATIVE = ("ae", "vae")
__all__ = ["load_generative_run", "load_inputs", "reconstruct_images", "sample_images",
           "save_grid", "traverse_latents"]  # fmt: skip


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


def load_inputs(source: str, config: dict[str, Any], n: int, start: int = 0) -> torch.Tensor:
    """Rows ``start .. start + n`` of ``source`` as run inputs: float ``(n, C, H, W)`` in [0, 1].

    Images are converted to the run's channels (``L``/``RGB``) and size, as in training.

    Raises:
        DataError: unreadable source, no ``image`` column, or ``start`` outside the rows.
    """
    from reprlearn.data import load_dataset
    from reprlearn.errors import DataError
    from reprlearn.training.data import to_array

    ds = load_dataset(source)
    if "image" not in ds.column_names:
        raise DataError(f"{source}: needs an 'image' column; the dataset has {ds.column_names}")
    if not 0 <= start < len(ds):
        raise DataError(
            f"{source}: has {len(ds)} rows (0..{len(ds) - 1}), no row {start}; pick a row in range"
        )
    c, h, _ = config["input_shape"]
    rows = ds.select(range(start, min(len(ds), start + n)))["image"]
    arrays = [to_array(im, "L" if c == 1 else "RGB", h) for im in rows]
    return torch.from_numpy(np.stack(arrays)).float() / 255.0
