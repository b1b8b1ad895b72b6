"""``torchvision:ARCH[/WEIGHTS]``: a torchvision classification model without its classifier.

``torchvision:resnet50/IMAGENET1K_V2`` loads ``torchvision.models.get_model("resnet50",
weights="IMAGENET1K_V2")``; ``torchvision:resnet18`` (no weights part) loads the
architecture's ``DEFAULT`` weights. Random init only when asked: ``random_weights=True``
(CLI ``--random-weights``; for baselines and training from scratch). The final classification layer
(the last ``nn.Linear``: ``fc`` of ResNets / RegNets / Inception, the last layer of
``classifier`` for VGG / MobileNet / EfficientNet / ConvNeXt / DenseNet, ``heads`` of ViT,
``head`` of Swin) becomes ``nn.Identity``, so the output is the penultimate features
(512 for resnet18, 2048 for resnet50). Preprocessing is the weights' own
``weights.transforms()``; with random weights, the chosen (or default) weights'
transforms (nothing is downloaded for them).

Weights are fetched by torch.hub into ``torch.hub.get_dir()/checkpoints``; offline, place
the file there or the load fails with :class:`WeightsUnavailableError` naming the URL and
the path (before, ``torchvision:resnet18`` silently embedded with random weights offline).

Source: torchvision ``models.get_model`` / ``get_model_weights``.
"""

from __future__ import annotations

import pickle
from typing import Any

import torch
from PIL import Image
from torch import nn

from reprlearn.encoders.base import (
    RANDOM_WEIGHTS_HINT,
    TorchEncoder,
    WeightsUnavailableError,
    unsafe_pickle_error,
)
from reprlearn.encoders.memory_format import ChannelsLast
from reprlearn.encoders.registry import register
from reprlearn.encoders.timm import RGBTransform


def strip_classifier(model: nn.Module) -> int:
    """Replace the last ``nn.Linear`` of ``model`` by ``nn.Identity``; returns its in_features.

    Raises:
        ValueError: the model has no ``nn.Linear`` (e.g. SqueezeNet's conv classifier).
    """
    linears = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no linear classifier to remove")
    parent_name, _, child = linears[-1].rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    in_features = getattr(parent, child).in_features
    setattr(parent, child, nn.Identity())
    return int(in_features)


def _weights(arch: str, tag: str) -> Any:
    """The weights enum member of ``arch`` named ``tag`` (``""`` or ``DEFAULT``: the default)."""
    from torchvision.models import get_model_weights

    try:
        enum = get_model_weights(arch)
    except (ValueError, KeyError) as e:
        raise ValueError(f"torchvision:{arch}: unknown architecture ({e})") from None
    try:
        return enum[tag] if tag not in ("", "DEFAULT") else enum.DEFAULT
    except KeyError:
        known = ", ".join(w.name for w in enum)
        raise ValueError(
            f"torchvision:{arch}/{tag}: unknown weights; choose one of {known}"
        ) from None


def _cache_path(weights: Any) -> str:
    """Where torch.hub keeps (and looks for) the file of ``weights``."""
    return f"{torch.hub.get_dir()}/checkpoints/{weights.url.rsplit('/', 1)[-1]}"


class TorchvisionEncoder(ChannelsLast, TorchEncoder):
    """A torchvision classifier minus its last linear layer: PIL images -> ``(batch, dim)``.

    Args:
        arch: architecture name, e.g. ``resnet50`` (``torchvision.models.list_models()``).
        weights: weights name (``IMAGENET1K_V2``; ``""`` or ``DEFAULT``: the default).
        random_weights: random init (the weights' transforms are still used).

    Raises:
        ValueError: unknown architecture or weights, or no linear classifier to remove.
        WeightsUnavailableError: the weights cannot be downloaded (offline) and are not in
            the cache; names the URL and the cache path.
    """

    modality = "image"

    def __init__(self, arch: str, weights: str = "", *, random_weights: bool = False) -> None:
        from torchvision.models import get_model

        w = _weights(arch, weights)
        try:
            self.model = get_model(arch, weights=None if random_weights else w)
        except pickle.UnpicklingError as e:
            raise unsafe_pickle_error(f"torchvision:{arch}", e, _cache_path(w)) from None
        except Exception as e:  # urllib URLError / HTTPError / socket errors when offline
            if random_weights:
                raise
            cache = _cache_path(w)
            raise WeightsUnavailableError(
                f"torchvision:{arch}/{w.name}: pretrained weights are unavailable offline "
                f"({e}). Get them: download {w.url} to {cache} (or run once with network "
                f"access); {RANDOM_WEIGHTS_HINT}"
            ) from e
        self._dim = strip_classifier(self.model)
        self.model.eval()
        self.transform = RGBTransform(w.transforms())

    def preprocess(self, item: Image.Image) -> torch.Tensor:
        """PIL image -> ``(3, H, W)`` float tensor with the weights' transforms."""
        return self.transform(item)

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` -> penultimate features ``(B, dim)``."""
        return self.model(batch).flatten(1)


@register(
    "torchvision",
    description="torchvision classifier minus its last layer (ARCH/WEIGHTS, default weights)",
    example="torchvision:resnet50/IMAGENET1K_V2",
    requires=("torchvision",),
    needs_download=True,
)
def _torchvision(
    identifier: str, modality: str = "image", *, random_weights: bool = False
) -> TorchvisionEncoder:
    if not identifier:
        raise ValueError(
            "torchvision needs an architecture, e.g. torchvision:resnet50/IMAGENET1K_V2"
        )
    if modality != "image":
        raise ValueError(f"torchvision:{identifier} embeds images only, not {modality!r}")
    arch, _, weights = identifier.partition("/")
    return TorchvisionEncoder(arch, weights, random_weights=random_weights)
