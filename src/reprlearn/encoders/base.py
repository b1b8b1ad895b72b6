"""The Encoder contract: a batch of raw items in, float32 vectors ``(batch, dim)`` out.

Two kinds of encoder share it:

* classical encoders fitted on the data (scikit-learn estimators: ``pixels``, ``pca:D``,
  ``tfidf``, ...). They implement :meth:`Encoder.fit`, and :meth:`Encoder.state` /
  :meth:`Encoder.load_state` so the fitted state is saved beside an embedding store
  (as ``.npz`` arrays + JSON, never a pickle) and new data gets the same transform;
* neural encoders (:class:`TorchEncoder`): a backbone ``nn.Module`` plus a per-item
  ``preprocess`` (runs in DataLoader workers), a ``collate`` and a ``forward``.

One rule for every pretrained family (``timm``, ``torchvision``, ``hf``, ``st``,
``open_clip``): an encoder has its pretrained weights, or loading raises
:class:`WeightsUnavailableError` saying they are unavailable offline and how to get them.
Random weights only when asked (``load_encoder(name, random_weights=True)``, CLI
``--random-weights``): the name then ends in :data:`RANDOM_WEIGHTS_SUFFIX` and
``describe()`` records ``random_weights: true`` in the store's manifest. Pickled weights
that hold more than tensors are refused with :class:`UnsafeWeightsError`.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torch import nn

from reprlearn.errors import ReprlearnError

Modality = Literal["image", "text"]

RANDOM_WEIGHTS_SUFFIX = " (random weights)"
RANDOM_WEIGHTS_SEED = 0
RANDOM_WEIGHTS_HINT = "or pass --random-weights (random_weights=True) to embed with random weights"


class WeightsUnavailableError(ReprlearnError, OSError):
    """Pretrained weights that cannot be loaded here (offline, not cached, no such file);
    the message says how to get them, or to ask for random weights."""


class UnsafeWeightsError(ReprlearnError, OSError):
    """A weights file that is a pickle holding more than tensors: loading it could run
    arbitrary code, so only safetensors or weights-only loads are accepted."""


def unsafe_pickle_error(
    name: str, error: Exception, where: str | Path | None = None
) -> UnsafeWeightsError:
    """The one-line :class:`UnsafeWeightsError` for ``torch.load(weights_only=True)``'s
    refusal ``error`` of a weights file of encoder ``name`` (``where``: file or folder)."""
    found = re.search(r"Unsupported global: ([^\n]*?)(?: was not|\.|$)", str(error))
    what = f" ({found.group(1).strip()})" if found else ""
    found_file = _pickle_file(where) if where is not None else ""
    place = f"the weights file {found_file}" if found_file else "the weights file"
    return UnsafeWeightsError(
        f"{name}: refused {place}: it is a pickle that holds more than tensors{what}, so "
        "loading it could run arbitrary code; reprlearn only accepts safetensors or "
        "weights-only loads. If you trust the file, convert it once to model.safetensors "
        "(safetensors.torch.save_file) and remove the pickle"
    )


def _pickle_file(where: str | Path) -> str:
    path = Path(where)
    if path.is_file():
        return path.name
    if path.is_dir():
        pickles = sorted(
            p.name for ext in ("*.bin", "*.pt", "*.pth", "*.ckpt") for p in path.glob(ext)
        )
        return ", ".join(pickles)
    return ""


class Encoder(ABC):
    """Maps a batch of raw items (PIL images or strings) to float32 ``(batch, dim)``.

    Attributes:
        name: the registry name that built it, e.g. ``"pca:32"``.
        modality: ``"image"`` or ``"text"``: the column of the dataset it reads.
        requires_fit: True for encoders fitted on the data before use.
        random_weights: pretrained families: True when built with random weights (seeded
            with :data:`RANDOM_WEIGHTS_SEED`), False with pretrained weights; None for
            families without pretrained weights (fitted or own checkpoints).
    """

    name: str = ""
    modality: Modality = "image"
    requires_fit: ClassVar[bool] = False
    random_weights: bool | None = None  # None: a family without pretrained weights

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
        """Facts recorded in a store's manifest (name, modality, dim, and for pretrained
        families ``random_weights``)."""
        facts: dict[str, Any] = {"name": self.name, "modality": self.modality, "dim": self.dim}
        if self.random_weights is not None:
            facts["random_weights"] = self.random_weights
        return facts


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
    cpu_kernels: dict[str, Any] | None = None  # the last CPU bf16 run's fused kernels

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
        """Move a collated batch to the model's device (floats cast to its dtype): a
        tensor, or any mapping (a tokenizer's ``BatchEncoding`` is a ``UserDict``, not a
        ``dict``), list or tuple of them."""
        if isinstance(batch, torch.Tensor):
            batch = batch.to(self.device, non_blocking=True)
            return batch.to(self.dtype) if batch.is_floating_point() else batch
        if isinstance(batch, Mapping):
            return {k: self.move(v) for k, v in batch.items()}
        if type(batch) in (list, tuple):
            return type(batch)(self.move(v) for v in batch)
        return batch

    @torch.inference_mode()
    def encode(self, items: Sequence[Any]) -> np.ndarray:
        """Embed a list of raw items in one batch (no DataLoader); float32 ``(n, dim)``."""
        batch = self.move(self.collate([self.preprocess(x) for x in items]))
        return self.forward(batch).float().cpu().numpy()

    def describe(self) -> dict[str, Any]:
        """:meth:`Encoder.describe`, plus ``cpu_kernels`` when the last CPU bf16 run used
        faster kernels: ``linear`` layers fused with their bias (``gelu`` of them with
        their GELU, :mod:`reprlearn.encoders.onednn_fusion`) and the models whose short
        sequences took the two-product attention (``short_attention``,
        :mod:`reprlearn.encoders.short_attention`)."""
        facts = super().describe()
        if self.cpu_kernels and (self.cpu_kernels.get("linear") or
                                 self.cpu_kernels.get("short_attention")):  # fmt: skip
            facts["cpu_kernels"] = self.cpu_kernels
        return facts

    @property
    def dim(self) -> int:
        return int(self._dim)

    _dim: int = 0
