"""Common corruptions of images at severity 1-5, to make a shifted (OOD) test set offline.

The corruptions and their severity scales follow ImageNet-C (Hendrycks & Dietterich,
ICLR 2019, ``make_imagenet_c.py``); the image operations are kornia's:

* ``gaussian_noise``: ``x + N(0, c^2)``, c = 0.08, 0.12, 0.18, 0.26, 0.38 (then clipped);
* ``gaussian_blur``: ``kornia.filters.gaussian_blur2d``, sigma = 1, 2, 3, 4, 6 px at 224 px
  (scaled: sigma x max(side, 32) / 224, at least 0.3 px);
* ``contrast``: ``(x - mean) * c + mean``, c = 0.4, 0.3, 0.2, 0.1, 0.05
  (``kornia.enhance.adjust_contrast_with_mean_subtraction``);
* ``jpeg``: ``kornia.enhance.jpeg_codec_differentiable``, quality 25, 18, 15, 10, 7.

Use ``load_dataset(source, corruption="gaussian_noise:3")``.
"""

from __future__ import annotations

import datasets
import numpy as np
import torch
from PIL import Image

from reprlearn.errors import DataError

SEVERITY = {
    "gaussian_noise": (0.08, 0.12, 0.18, 0.26, 0.38),
    "gaussian_blur": (1.0, 2.0, 3.0, 4.0, 6.0),
    "contrast": (0.4, 0.3, 0.2, 0.1, 0.05),
    "jpeg": (25, 18, 15, 10, 7),
}
CORRUPTIONS = tuple(SEVERITY)


def parse_corruption(spec: str) -> tuple[str, int]:
    """``"gaussian_noise:3"`` -> ``("gaussian_noise", 3)`` (severity defaults to 3).

    Raises:
        DataError: unknown corruption or a severity outside 1-5.
    """
    name, _, level = spec.partition(":")
    if name not in SEVERITY:
        raise DataError(f"unknown corruption {name!r}; choose one of {', '.join(CORRUPTIONS)} "
                        "with a severity 1-5, e.g. gaussian_noise:3")  # fmt: skip
    if level and not (level.isdigit() and 1 <= int(level) <= 5):
        raise DataError(f"corruption {spec!r}: the severity must be 1-5")
    return name, int(level or 3)


def corrupt_batch(
    x: torch.Tensor, name: str, severity: int, generator: torch.Generator
) -> torch.Tensor:
    """Corrupt ``x (B, C, H, W)`` in [0, 1]; returns the same shape in [0, 1]."""
    import kornia

    c = SEVERITY[name][severity - 1]
    if name == "gaussian_noise":
        noise = torch.randn(x.shape, generator=generator) * c
        return (x + noise).clamp(0, 1)
    if name == "gaussian_blur":
        sigma = max(0.3, c * max(x.shape[-1], 32) / 224)
        k = 2 * int(np.ceil(3 * sigma)) + 1
        return kornia.filters.gaussian_blur2d(x, (k, k), (sigma, sigma), border_type="reflect")
    if name == "contrast":
        return kornia.enhance.adjust_contrast_with_mean_subtraction(x, c).clamp(0, 1)
    rgb = x if x.shape[1] == 3 else x.expand(-1, 3, -1, -1)
    h, w = x.shape[-2:]
    ph, pw = (-h) % 16, (-w) % 16  # the codec works on 16 x 16 blocks
    padded = torch.nn.functional.pad(rgb, (0, pw, 0, ph), mode="replicate")
    out = kornia.enhance.jpeg_codec_differentiable(padded, torch.tensor([float(c)]))
    out = out[..., :h, :w].clamp(0, 1)
    return out if x.shape[1] == 3 else out.mean(1, keepdim=True)


def corrupt(
    ds: datasets.Dataset, spec: str, *, seed: int = 0, batch_size: int = 256
) -> datasets.Dataset:
    """``ds`` with its ``image`` column corrupted by ``spec`` (``NAME:SEVERITY``), seeded.

    Raises:
        DataError: no image column, unknown corruption or severity.
        ImportError: kornia is not installed (``pip install 'reprlearn[corruptions]'``).
    """
    name, severity = parse_corruption(spec)
    if "image" not in ds.column_names:
        raise DataError(
            f"--corruption {spec!r} applies to images; this source holds {ds.column_names}"
        )
    try:
        import kornia  # noqa: F401
    except ImportError:
        raise ImportError("corruptions need kornia: pip install 'reprlearn[corruptions]'") from None
    generator = torch.Generator().manual_seed(seed)

    def apply(batch):
        images = batch["image"]
        modes = [im.mode for im in images]
        arrays = [np.asarray(im.convert("L" if m in ("L", "1") else "RGB"), np.float32) / 255
                  for im, m in zip(images, modes, strict=True)]  # fmt: skip
        out = []
        for a in arrays:  # images may differ in size: one at a time through the batched op
            t = torch.from_numpy(
                a[None, None] if a.ndim == 2 else a.transpose(2, 0, 1)[None].copy()
            )
            y = corrupt_batch(t, name, severity, generator)[0].numpy()
            y = (y * 255).round().clip(0, 255).astype(np.uint8)
            out.append(Image.fromarray(y[0] if y.shape[0] == 1 else y.transpose(1, 2, 0)))
        return {"image": out}

    return ds.map(apply, batched=True, batch_size=batch_size, desc=f"corrupt {spec}",
                  new_fingerprint=f"{ds._fingerprint}-{name}-{severity}-{seed}")  # fmt: skip
