"""What a class activation map explains: a class score, or the similarity to a reference.

* classifiers (``finetune`` runs): the logit of the predicted class (default) or of the true
  class (``--target true``): grad-cam's ``ClassifierOutputTarget``;
* encoders without a head (``ckpt:``, ``timm:``, ``torchvision:``): the cosine similarity of
  the item's embedding to a reference embedding, the item's class prototype (the mean
  embedding of its class) or a chosen reference image, as the similarity target of
  grad-cam's "embedding similarity" tutorial (Gildenblat, pytorch-grad-cam docs);
* EigenCAM needs no target (the first principal component of the activations; Muhammad &
  Yeasin 2020).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from reprlearn.errors import DataError

TARGETS = ("pred", "true")


class SimilarityToReference:
    """Target ``cos(output, reference)`` for an encoder output ``(dim,)``.

    Args:
        reference: the reference embedding ``(dim,)`` (a class prototype or an image's).
    """

    def __init__(self, reference: torch.Tensor) -> None:
        self.reference = reference.detach().float().flatten()

    def __call__(self, model_output: torch.Tensor) -> torch.Tensor:
        out = model_output.float().flatten()
        return torch.nn.functional.cosine_similarity(out, self.reference.to(out.device), dim=0)


def class_targets(classes: Sequence[int]) -> list[ClassifierOutputTarget]:
    """One ``ClassifierOutputTarget`` per item: the logit of ``classes[i]``."""
    return [ClassifierOutputTarget(int(c)) for c in classes]


def class_prototypes(features: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """Mean L2-normalised embedding of each class: ``{label: (dim,)}``.

    Args:
        features: embeddings ``(n, dim)``; labels: int class ids ``(n,)``.
    """
    unit = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    return {int(c): unit[labels == c].mean(0) for c in np.unique(labels)}


def similarity_targets(
    references: np.ndarray | Sequence[np.ndarray],
) -> list[SimilarityToReference]:
    """One :class:`SimilarityToReference` per item from reference embeddings ``(n, dim)``."""
    return [SimilarityToReference(torch.as_tensor(np.asarray(r, dtype=np.float32)))
            for r in references]  # fmt: skip


def check_target(target: str) -> None:
    """Raise DataError for an unknown ``--target`` value."""
    if target not in TARGETS:
        raise DataError(f"unknown --target {target!r}; choose one of {', '.join(TARGETS)}")
