"""``ckpt:RUN_FOLDER``: encoders pretrained with ``reprlearn pretrain`` (our own checkpoints).

Rebuilds the method from ``config.json`` + ``method.safetensors`` (safetensors: no
pickle is ever loaded) through :func:`reprlearn.training.checkpoint.load_run`, and embeds
PIL images exactly as in training: converted to the training mode (``L`` for 1 channel,
``RGB`` for 3), resized to the training size (bilinear), scaled to [0, 1]; the backbone's
first module applies the training mean/std. ``forward`` is ``method.embed``: the backbone
output for SimCLR/VICReg/BYOL, the code (or posterior mean) for an AE/VAE.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from reprlearn.encoders.base import TorchEncoder
from reprlearn.encoders.registry import register


class CheckpointEncoder(TorchEncoder):
    """An encoder from a pretraining run folder; ``(batch of PIL images) -> (batch, feat_dim)``.

    Args:
        folder: the run folder (``--out`` of ``reprlearn pretrain``).

    Raises:
        StoreError: not a run folder, or weights that do not match its config.
    """

    modality = "image"

    def __init__(self, folder: str | Path) -> None:
        from reprlearn.training.checkpoint import load_run

        self.model, self.config = load_run(folder)
        c, h, w = self.config["input_shape"]
        self.mode, self.size = ("L" if c == 1 else "RGB"), (w, h)
        with torch.no_grad():
            self._dim = int(self.model.embed(torch.zeros(2, c, h, w)).shape[1])

    def preprocess(self, item: Any) -> torch.Tensor:
        """PIL image (or path) -> float32 ``(C, H, W)`` in [0, 1] at the training size."""
        image = Image.open(item) if isinstance(item, str | Path) else item
        image = image.convert(self.mode)
        if image.size != self.size:
            image = image.resize(self.size, Image.BILINEAR)
        a = np.asarray(image, dtype=np.float32) / 255.0
        return torch.from_numpy(a[None] if a.ndim == 2 else a.transpose(2, 0, 1).copy())

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.model.embed(batch)

    def describe(self) -> dict[str, Any]:
        keys = ("method", "backbone", "input_shape", "epoch", "recipe", "source")
        return {**super().describe(), **{k: self.config.get(k) for k in keys}}


@register(
    "ckpt",
    description="an encoder pretrained with `reprlearn pretrain` (run folder)",
    example="ckpt:runs/simclr-digits",
    requires=("torch", "lightning", "safetensors"),
)
def _checkpoint(identifier: str, **options: Any) -> CheckpointEncoder:
    if not identifier:
        raise ValueError("ckpt: needs a run folder, e.g. ckpt:runs/simclr-digits")
    from reprlearn.adapt.classifier import is_finetune_run, load_adapted_encoder

    if is_finetune_run(identifier):  # a `reprlearn finetune` run: its adapted backbone
        return load_adapted_encoder(identifier)[0]
    return CheckpointEncoder(identifier)
