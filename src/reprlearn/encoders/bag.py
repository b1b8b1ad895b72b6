"""``bag:FOLDER``: the learned lookup table of a fastText-style classifier (``words train
SOURCE --method bag``): a text is the mean of its words' rows, ``(n, dim)``.

The same vector as one-hot bag-of-words ``(V,)`` times the ``(V, dim)`` table divided by
the number of known words, computed as a lookup (``nn.EmbeddingBag``) — see
:mod:`reprlearn.words.bag`. :meth:`BagEncoder.describe` records the memory of one-hot vs
dense inputs at the vocabulary's size, and the OOV share of the embedded texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from reprlearn.encoders.base import Encoder
from reprlearn.encoders.registry import register


class BagEncoder(Encoder):
    """Mean of learned word rows: texts -> float32 ``(n, dim)``.

    Raises:
        DataError: ``folder`` is not a bag folder.
    """

    modality = "text"

    def __init__(self, folder: str) -> None:
        from reprlearn.words.bag import load_bag

        self.folder = folder
        self.model, self.index, self.manifest = load_bag(folder)
        self.known_, self.oov_ = 0, 0

    @torch.inference_mode()
    def encode(self, items: Sequence[str]) -> np.ndarray:
        from reprlearn.words.bag import to_bags

        ids, offsets, known, oov = to_bags(list(items), self.index)
        self.known_, self.oov_ = self.known_ + known, self.oov_ + oov
        return self.model.embed(ids, offsets).float().numpy()

    @property
    def dim(self) -> int:
        return int(self.manifest["dim"])

    def describe(self) -> dict[str, Any]:
        seen = self.known_ + self.oov_
        return {
            **super().describe(),
            "folder": self.folder,
            "vocab_size": len(self.index),
            "memory": self.manifest["memory"],
            "heldout_accuracy_of_training": self.manifest["heldout_accuracy"],
            "oov_share": self.oov_ / seen if seen else 0.0,
        }


@register(
    "bag",
    description="learned lookup table (nn.EmbeddingBag) of `words train --method bag`",
    example="bag:runs/mr-bag",
)
def _bag(identifier: str, **options: Any) -> Encoder:
    if not identifier:
        raise ValueError(
            "bag needs a folder: train one with `reprlearn words train SOURCE --method bag --out FOLDER`, then bag:FOLDER"
        )
    return BagEncoder(identifier)
