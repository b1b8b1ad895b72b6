"""``hf:NAME``: a Hugging Face transformers model (hub id or local folder), text or images.

Loaded with transformers' own ``AutoModel.from_pretrained`` plus ``AutoTokenizer``
(text) or ``AutoImageProcessor`` (images). The modality follows what the folder / hub id
provides: a tokenizer only -> text, an image processor only -> image; with both (e.g.
CLIP) pass ``modality=`` (``reprlearn embed --modality``).

Pooling (documented choices):

* text: attention-masked mean of ``last_hidden_state`` (Reimers & Gurevych 2019,
  sentence-transformers' ``Pooling(mode="mean")``);
* images: ``pooler_output`` when the model has one (DINOv2 / ViT: the normalised / pooled
  CLS token; ResNet / ConvNeXt: global average pool), flattened to ``(batch, dim)``; else
  the CLS token ``last_hidden_state[:, 0]`` for token outputs ``(B, T, D)`` or the spatial
  mean for feature maps ``(B, C, H, W)``.

Weights: pretrained (``from_pretrained``), or :class:`WeightsUnavailableError` saying how
to get them; ``random_weights=True`` builds the architecture from its ``config.json``
(``AutoModel.from_config``) instead. A ``pytorch_model.bin`` that is a pickle holding more
than tensors is refused with :class:`UnsafeWeightsError` (transformers loads ``.bin``
files weights-only).
"""

from __future__ import annotations

import pickle
from typing import Any

import torch
from PIL import Image

from reprlearn.encoders.base import (
    RANDOM_WEIGHTS_HINT,
    TorchEncoder,
    WeightsUnavailableError,
    unsafe_pickle_error,
)
from reprlearn.encoders.registry import register


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``hidden`` ``(B, T, D)`` over the positions where ``mask`` ``(B, T)`` is 1."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def pool_image_output(output: Any) -> torch.Tensor:
    """A vision model's output -> ``(B, dim)`` (pooler_output, else CLS token or spatial mean)."""
    pooled = getattr(output, "pooler_output", None)
    if pooled is not None:
        return pooled.flatten(1)
    hidden = output.last_hidden_state
    return hidden[:, 0] if hidden.dim() == 3 else hidden.flatten(2).mean(-1)


def _try_load(loader: Any, name: str) -> Any | None:
    try:
        return loader.from_pretrained(name)
    except (OSError, ValueError, KeyError, TypeError):
        return None


class HFImageProcessor:
    """Picklable per-item image preprocessing: PIL image -> ``(3, H, W)`` float tensor."""

    def __init__(self, processor: Any) -> None:
        self.processor = processor

    def __call__(self, image: Image.Image) -> torch.Tensor:
        if image.mode != "RGB":
            image = image.convert("RGB")
        return self.processor(images=image, return_tensors="pt")["pixel_values"][0]


class HFEncoder(TorchEncoder):
    """A transformers ``AutoModel``: texts or PIL images -> float32 ``(batch, dim)``.

    Args:
        name_or_path: hub id (needs network or the HF cache) or a folder written by
            ``save_pretrained`` (model + tokenizer or image processor).
        modality: ``"text"``, ``"image"`` or None (decided from what the folder provides).
        max_length: text truncation in tokens (default: the tokenizer's ``model_max_length``,
            capped at the model's ``max_position_embeddings``, else 512).
        random_weights: the architecture of ``config.json`` with random weights.

    Raises:
        WeightsUnavailableError: the model cannot be loaded (missing folder or weights, hub
            id offline and not cached).
        UnsafeWeightsError: a pickled weights file holding more than tensors.
        ValueError: neither a tokenizer nor an image processor found, or both and no
            ``modality`` given.

    Source: Hugging Face transformers (Wolf et al. 2020), ``AutoModel``.
    """

    def __init__(
        self,
        name_or_path: str,
        *,
        modality: str | None = None,
        max_length: int | None = None,
        random_weights: bool = False,
    ) -> None:
        from transformers import AutoImageProcessor, AutoTokenizer

        self.model = load_hf_model(name_or_path, random_weights)
        self.model.eval()
        tokenizer = _try_load(AutoTokenizer, name_or_path) if modality != "image" else None
        processor = _try_load(AutoImageProcessor, name_or_path) if modality != "text" else None
        self.modality = _decide_modality(name_or_path, modality, tokenizer, processor)
        if self.modality == "text":
            self.tokenizer = tokenizer
            if tokenizer.pad_token is None:  # decoder-only models (GPT-2) have none
                tokenizer.pad_token = tokenizer.eos_token
            self.max_length = max_length or self._default_max_length()
        else:
            self.image_processor = HFImageProcessor(processor)
        self._dim = self._probe_dim()

    def _default_max_length(self) -> int:
        limit = getattr(self.model.config, "max_position_embeddings", None) or 512
        return int(min(self.tokenizer.model_max_length, limit))

    def _probe_dim(self) -> int:
        item = "a" if self.modality == "text" else Image.new("RGB", (32, 32))
        with torch.inference_mode():
            return int(self.forward(self.collate([self.preprocess(item)])).shape[1])

    def preprocess(self, item: Any) -> Any:
        """Images: the model's image processor -> ``(3, H, W)``; texts unchanged."""
        return item if self.modality == "text" else self.image_processor(item)

    def collate(self, batch: list[Any]) -> Any:
        """Texts -> padded, truncated token tensors; image tensors -> ``(B, 3, H, W)``."""
        if self.modality == "image":
            return torch.stack(batch)
        return dict(
            self.tokenizer(
                list(batch),
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
        )

    def lengths(self, texts: list[str]) -> list[int]:
        """Token counts (capped at ``max_length``): :func:`reprlearn.embed` sorts by them so
        batches pad little. Images: all 0 (no sorting)."""
        if self.modality == "image":
            return [0] * len(texts)
        ids = self.tokenizer(list(texts), truncation=False)["input_ids"]
        return [min(len(x), self.max_length) for x in ids]

    def forward(self, batch: Any) -> torch.Tensor:
        """``(B, dim)``: masked mean of tokens (text) or the pooled image output."""
        if self.modality == "image":
            return pool_image_output(self.model(pixel_values=batch))
        out = self.model(**batch)
        return masked_mean(out.last_hidden_state, batch["attention_mask"])


def load_hf_model(name_or_path: str, random_weights: bool = False) -> Any:
    """``AutoModel.from_pretrained`` (or ``from_config`` with random weights) with
    reprlearn's errors: :class:`WeightsUnavailableError` (offline, missing files) and
    :class:`UnsafeWeightsError` (a pickle that holds more than tensors)."""
    from transformers import AutoConfig, AutoModel

    try:
        if random_weights:
            return AutoModel.from_config(AutoConfig.from_pretrained(name_or_path))
        return AutoModel.from_pretrained(name_or_path)
    except pickle.UnpicklingError as e:
        raise unsafe_pickle_error(f"hf:{name_or_path}", e, name_or_path) from None
    except OSError as e:
        what = "its config.json" if random_weights else "its pretrained weights"
        raise WeightsUnavailableError(
            f"hf:{name_or_path}: could not load {what} ({_first_line(e)}). Get them: a "
            "folder written by save_pretrained, or a hub id with network access or in the "
            f"Hugging Face cache{'' if random_weights else '; ' + RANDOM_WEIGHTS_HINT}"
        ) from e


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _decide_modality(name: str, modality: str | None, tokenizer: Any, processor: Any) -> str:
    if modality is not None:
        if modality not in ("text", "image"):
            raise ValueError(f"hf:{name}: modality must be 'text' or 'image', not {modality!r}")
        if (tokenizer if modality == "text" else processor) is None:
            what = "tokenizer" if modality == "text" else "image processor"
            raise ValueError(f"hf:{name}: modality={modality!r} but no {what} was found")
        return modality
    if tokenizer is not None and processor is not None:
        raise ValueError(f"hf:{name} has a tokenizer and an image processor: pass --modality")
    if tokenizer is not None:
        return "text"
    if processor is not None:
        return "image"
    raise ValueError(
        f"hf:{name}: found neither a tokenizer nor an image processor config; save one with "
        "the model (tokenizer.save_pretrained / processor.save_pretrained)"
    )


@register(
    "hf",
    description="Hugging Face transformers AutoModel (hub id or folder), text or image",
    example="hf:facebook/dinov2-small",
    requires=("transformers",),
    needs_download=True,
)
def _hf(identifier: str, **options: Any) -> HFEncoder:
    if not identifier:
        raise ValueError("hf needs a model, e.g. hf:facebook/dinov2-small or hf:/path/to/folder")
    return HFEncoder(identifier, **options)
