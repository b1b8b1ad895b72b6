"""``timm:NAME``: a timm image model without its classifier (``num_classes=0``).

``NAME`` is what ``timm.create_model`` takes: a registry name with a pretrained tag
(``timm:resnet50.a1_in1k``), a hub id (``timm:hf-hub:timm/resnet18.a1_in1k``) or a local
folder written by ``timm.models.save_for_hf`` (``config.json`` + weights; a plain path is
sent as ``local-dir:PATH``, the same config + weights loader a hub id takes). Weights are
pretrained, or loading fails saying they are unavailable offline; ``random_weights=True``
(CLI ``--random-weights``) for random init. Preprocessing is timm's own:
``timm.data.resolve_model_data_config(model)`` + ``create_transform(**cfg,
is_training=False)`` (resize, centre crop, normalise), after converting images to RGB.

Source: timm (Wightman 2019), ``timm.create_model``.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from reprlearn.encoders.base import (
    RANDOM_WEIGHTS_HINT,
    TorchEncoder,
    WeightsUnavailableError,
    unsafe_pickle_error,
)
from reprlearn.encoders.memory_format import ChannelsLast
from reprlearn.encoders.registry import register


class RGBTransform:
    """Picklable ``PIL image -> (3, H, W)`` tensor: convert to RGB, then ``transform``."""

    def __init__(self, transform: Any) -> None:
        self.transform = transform

    def __call__(self, image: Image.Image) -> torch.Tensor:
        return self.transform(image if image.mode == "RGB" else image.convert("RGB"))


def timm_model_name(identifier: str) -> str:
    """A plain existing folder -> ``local-dir:FOLDER``; other names unchanged."""
    if ":" not in identifier and Path(identifier).is_dir():
        return f"local-dir:{Path(identifier).resolve()}"
    return identifier


class TimmEncoder(ChannelsLast, TorchEncoder):
    """A timm backbone: PIL images -> float32 ``(batch, num_features)`` pooled features.

    Args:
        name: ``timm.create_model`` name (see module docstring).
        random_weights: random init instead of the pretrained weights (default False:
            pretrained, which needs the hub cache or network for registry/hub names, the
            weights file for a local folder).

    Raises:
        ValueError: unknown model name.
        WeightsUnavailableError: pretrained weights not available offline.
        UnsafeWeightsError: a pickled weights file holding more than tensors.
    """

    modality = "image"

    def __init__(self, name: str, *, random_weights: bool = False) -> None:
        import timm
        import timm.data

        model_name = timm_model_name(name)
        try:
            self.model = timm.create_model(model_name, pretrained=not random_weights, num_classes=0)
        except pickle.UnpicklingError as e:
            raise unsafe_pickle_error(f"timm:{name}", e, name) from None
        except RuntimeError as e:
            if "Unknown model" not in str(e):
                raise
            raise ValueError(
                f"timm:{name}: unknown model; list them with timm.list_models('*{name[:6]}*')"
            ) from None
        except (OSError, ConnectionError) as e:
            raise WeightsUnavailableError(
                f"timm:{name}: pretrained weights are unavailable offline ({_first_line(e)}). "
                "Get them: run once with network access (they stay in the Hugging Face "
                "cache), or save the model with timm.models.save_for_hf and pass "
                f"timm:FOLDER; {RANDOM_WEIGHTS_HINT}"
            ) from e
        self.model.eval()
        self.data_config = timm.data.resolve_model_data_config(self.model)
        self.transform = RGBTransform(
            timm.data.create_transform(**self.data_config, is_training=False)
        )
        self._dim = int(self.model.num_features)

    def preprocess(self, item: Image.Image) -> torch.Tensor:
        """PIL image -> ``(3, H, W)`` float tensor, timm's eval transform."""
        return self.transform(item)

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` -> pooled features ``(B, num_features)``."""
        return self.model(batch)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "input_size": list(self.data_config["input_size"])}


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


@register(
    "timm",
    description="timm image model, classifier removed (registry name, hf-hub: id or folder)",
    example="timm:resnet50.a1_in1k",
    requires=("timm",),
    needs_download=True,
)
def _timm(identifier: str, modality: str = "image", **options: Any) -> TimmEncoder:
    if not identifier:
        raise ValueError("timm needs a model, e.g. timm:resnet50.a1_in1k or timm:/path/to/folder")
    if modality != "image":
        raise ValueError(f"timm:{identifier} embeds images only, not {modality!r}")
    return TimmEncoder(identifier, **options)
