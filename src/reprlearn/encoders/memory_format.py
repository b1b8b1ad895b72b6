"""``channels_last`` (NHWC) for image backbones: the layout oneDNN (CPU) and cuDNN (GPU)
convolutions run fastest in, without a reorder before every convolution.

Source: PyTorch's "Channels Last Memory Format" tutorial; Intel's oneDNN guidance for
bf16 convolutions on AMX. The vectors are the same up to float rounding.
"""

from __future__ import annotations

from typing import Any

import torch


class ChannelsLast:
    """Mixin for a :class:`~reprlearn.encoders.base.TorchEncoder` of images: ``to`` puts
    the weights in ``channels_last``, ``move`` puts each ``(B, 3, H, W)`` batch in it."""

    def to(self, device: torch.device | str, dtype: torch.dtype = torch.float32) -> Any:
        super().to(device, dtype)  # type: ignore[misc]
        self.model.to(memory_format=torch.channels_last)  # type: ignore[attr-defined]
        return self

    def move(self, batch: Any) -> Any:
        batch = super().move(batch)  # type: ignore[misc]
        if isinstance(batch, torch.Tensor) and batch.dim() == 4:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch
