"""The network to look inside: a ``finetune`` run (classifier) or an image encoder (no head).

:func:`load_explainable` returns one :class:`Explainable` for both, whose ``module`` maps a
preprocessed image batch ``(B, C, H, W)`` to logits ``(B, classes)`` (classifier) or to
embeddings ``(B, dim)`` (encoder).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from reprlearn.encoders.base import TorchEncoder
from reprlearn.errors import ReprlearnError


class EncoderModule(nn.Module):
    """``images -> encoder.forward(images)``: an encoder as a plain module ``(B, dim)``."""

    def __init__(self, encoder: TorchEncoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.backbone = encoder.model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder.forward(images).float()


@dataclass
class Explainable:
    """An image network ready for CAMs.

    Attributes:
        module: images -> logits or embeddings; encoder: the (adapted) encoder (its
        ``preprocess``/``collate`` build the input); label_names: the classifier's classes
        (None for an encoder); name: what the user passed.
    """

    module: nn.Module
    encoder: TorchEncoder
    label_names: list[str] | None
    name: str

    @property
    def is_classifier(self) -> bool:
        return self.label_names is not None

    @property
    def backbone(self) -> nn.Module:
        return self.encoder.model


def run_modality(run: str | Path) -> str | None:
    """``"image"``/``"text"`` for a finetune run folder (its config's modality), else None."""
    from reprlearn.adapt.classifier import is_finetune_run, read_classifier_config

    if not is_finetune_run(run):
        return None
    return read_classifier_config(run).get("modality")


def _check_image_encoder(encoder: Any, name: str) -> TorchEncoder:
    if not isinstance(encoder, TorchEncoder):
        raise ReprlearnError(
            f"{name} is a classical encoder (fitted on the data, no network layers): it has "
            "no activation maps to explain; use a neural image encoder (ckpt:RUN, timm:NAME, "
            "torchvision:NAME) or a finetune run of one"
        )
    if encoder.modality != "image":
        raise ReprlearnError(
            f"{name} reads {encoder.modality}, not images: class activation maps need an "
            "image network (for a text classifier, `reprlearn explain RUN TEXTS` shows "
            "token attributions)"
        )
    return encoder


def load_explainable(name: str | Path, *, random_weights: bool = False) -> Explainable:
    """Load a finetune run folder as a classifier, or an encoder name as an encoder.

    Args:
        name: a ``reprlearn finetune`` run folder, or an encoder name (``ckpt:RUN``,
            ``timm:NAME``, ``torchvision:ARCH``; ``local-dir:`` folders as ``load_encoder``).
        random_weights: pretrained families: random weights (``load_encoder``'s option).

    Raises:
        ReprlearnError: a classical or a text encoder/classifier (no image layers).
        StoreError, WeightsUnavailableError: as ``load_classifier`` / ``load_encoder``.
    """
    from reprlearn.adapt.classifier import FinetuneModel, is_finetune_run, load_classifier

    if is_finetune_run(name):
        clf = load_classifier(name)
        encoder = _check_image_encoder(clf.encoder, f"the classifier in {name}")
        module = FinetuneModel(encoder, clf.head).eval()
        return Explainable(module, encoder, list(clf.label_names), str(name))
    from reprlearn.encoders.registry import load_encoder

    options = {"random_weights": True} if random_weights else {}
    encoder = _check_image_encoder(load_encoder(str(name), **options), str(name))
    encoder.model.eval()
    return Explainable(EncoderModule(encoder).eval(), encoder, None, encoder.name or str(name))
