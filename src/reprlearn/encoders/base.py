"""The Encoder contract: a batch of raw items in, float32 vectors ``(batch, dim)`` out.

Two kinds of encoder share it:

* classical encoders fitted on the data (scikit-learn estimators: ``pixels``, ``pca:D``,
  ``tfidf``, ...). They implement :meth:`Encoder.fit`, and :meth:`Encoder.state` /
  :meth:`Encoder.load_state` so the fitted state is saved beside an embedding store
  (as ``.npz`` arrays + JSON, never a pickle) and new data gets the same transform;
* neural encoders (:class:`TorchEncoder`): a backbone ``nn.Module`` plus a per-item
  ``preprocess`` (runs in DataLoader workers), a ``collate`` and a ``forward``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torch import nn

Modality = Literal["image", "text"]


class Encoder(ABC):
    """Maps a batch of raw items (PIL images or strings) to float32 ``(batch, dim)``.

    Attributes:
        name: the registry name that built it, e.g. ``"pca:32"``.
        modality: ``"image"`` or ``"text"``: the column of the dataset it reads.
        requires_fit: True for encoders fitted on the data before use.
    """

    name: str = ""
    modality: Modality = "image"
    requires_fit: ClassVar[bool] = False

    def fit(self, items: Sequence[Any]) -> Encoder:
        """Fit on raw items (a no-op for pretrained encoders); returns ``self``."""
        return self

    @abstractmethod
    def encode(self, items: Sequence[Any]) -> np.ndarray:
        """Embed ``items``; returns float32 ``(len(items), dim)``."""

    @property
    @abstractmethod
    def dim(self) -> int:
        """Embedding dimension (known after ``fit`` for fitted encoders)."""

    # --- fitted state (classical encoders) ---------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Fitted state as (arrays, JSON-able config); empty for stateless encoders."""
        return {}, {}

    def load_state(self, arrays: dict[str, np.ndarray], config: dict[str, Any]) -> Encoder:
        """Restore what :meth:`state` returned; returns ``self``."""
        return self

    def save(self, folder: str | Path) -> None:
        """Write the fitted state to ``folder/state.npz`` + ``folder/state.json``."""
        arrays, config = self.state()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "state.npz", **arrays)
        (folder / "state.json").write_text(json.dumps(config, indent=1))

    def load(self, folder: str | Path) -> Encoder:
        """Read what :meth:`save` wrote (``allow_pickle=False``: safe on untrusted files)."""
        folder = Path(folder)
        with np.load(folder / "state.npz", allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        config = json.loads((folder / "state.json").read_text())
        return self.load_state(arrays, config)

    def describe(self) -> dict[str, Any]:
        """Facts recorded in a store's manifest (name, modality, dim, ...)."""
        return {"name": self.name, "modality": self.modality, "dim": self.dim}


class TorchEncoder(Encoder):
    """A neural encoder: ``preprocess`` per item, ``collate`` per batch, ``forward`` on device.

    Subclasses set ``self.model`` (an ``nn.Module``) and implement :meth:`preprocess`
    and :meth:`forward`. :func:`reprlearn.embed` moves the model with :meth:`to`
    (device + dtype: bf16/fp16 weights when asked) and runs ``preprocess`` in
    DataLoader workers, so it must be picklable and must not touch the GPU.
    """

    model: nn.Module
    device: torch.device = torch.device("cpu")
    dtype: torch.dtype = torch.float32

    def preprocess(self, item: Any) -> Any:
        """One raw item -> model input (e.g. a ``(3, H, W)`` float tensor). Default: as is."""
        return item

    def collate(self, batch: list[Any]) -> Any:
        """A list of preprocessed items -> one batch (default: ``torch.stack``)."""
        return torch.stack(batch) if isinstance(batch[0], torch.Tensor) else batch

    @abstractmethod
    def forward(self, batch: Any) -> torch.Tensor:
        """Model output ``(batch, dim)`` for a collated batch (called under ``no_grad``)."""

    def length(self, item: Any) -> int:
        """Sort key for length bucketing (texts: characters); 0 = no sorting."""
        return len(item) if isinstance(item, str) else 0

    def to(self, device: torch.device | str, dtype: torch.dtype = torch.float32) -> TorchEncoder:
        """Move the model to ``device`` with weights in ``dtype``; returns ``self``."""
        self.device, self.dtype = torch.device(device), dtype
        self.model.to(device=self.device, dtype=dtype).eval()
        return self

    def move(self, batch: Any) -> Any:
        """Move a collated batch to the model's device (floats cast to its dtype)."""
        if isinstance(batch, torch.Tensor):
            batch = batch.to(self.device, non_blocking=True)
            return batch.to(self.dtype) if batch.is_floating_point() else batch
        if isinstance(batch, dict):
            return {k: self.move(v) for k, v in batch.items()}
        return batch

    @torch.inference_mode()
    def encode(self, items: Sequence[Any]) -> np.ndarray:
        """Embed a list of raw items in one batch (no DataLoader); float32 ``(n, dim)``."""
        batch = self.move(self.collate([self.preprocess(x) for x in items]))
        return self.forward(batch).float().cpu().numpy()

    @property
    def dim(self) -> int:
        return int(self._dim)

    _dim: int = 0
