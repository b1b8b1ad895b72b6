"""``open_clip:ARCH[/PRETRAINED]``: an OpenCLIP model's image tower (default) or text tower.

The name goes to ``open_clip.create_model_and_transforms``:

* ``open_clip:ViT-B-32/laion2b_s34b_b79k``: a built-in architecture and a pretrained tag
  (or a checkpoint file path after the ``/``); ``open_clip:ViT-B-32`` alone is an error
  that lists its tags (it was silently random before);
* ``open_clip:hf-hub:ORG/REPO``: config + weights from the hub;
* ``open_clip:/path/to/folder``: a folder with ``open_clip_config.json`` and weights, sent
  as ``local-dir:PATH`` (the same loader a hub id takes).

``modality="image"`` (default) embeds images with ``model.encode_image`` after the
model's eval transform; ``modality="text"`` (``reprlearn embed --modality text``) embeds
texts with ``model.encode_text`` after the model's tokenizer (``open_clip.get_tokenizer``).
Vectors are not normalised (pass ``normalize=True`` to ``embed`` for cosine geometry).

Weights: pretrained, or :class:`WeightsUnavailableError` saying how to get them;
``random_weights=True`` (CLI ``--random-weights``) builds the architecture without loading
weights (``load_weights=False``). Checkpoints load weights-only; a pickle holding more
than tensors is refused with :class:`UnsafeWeightsError`.

Source: OpenCLIP (Ilharco et al. 2021; Cherti et al. 2023), CLIP (Radford et al. 2021).
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
from reprlearn.encoders.registry import register
from reprlearn.encoders.timm import RGBTransform


def parse_open_clip_name(identifier: str) -> tuple[str, str | None]:
    """``"ViT-B-32/tag"`` -> ``("ViT-B-32", "tag")``; a folder -> ``("local-dir:PATH", None)``;
    ``"hf-hub:org/repo"`` unchanged with no tag."""
    if identifier.startswith(("hf-hub:", "local-dir:")):
        return identifier, None
    if Path(identifier).is_dir():
        return f"local-dir:{Path(identifier).resolve()}", None
    arch, _, tag = identifier.partition("/")
    return arch, (tag or None)


class OpenCLIPEncoder(TorchEncoder):
    """One tower of an OpenCLIP model: images or texts -> float32 ``(batch, embed_dim)``.

    Args:
        identifier: see the module docstring.
        modality: ``"image"`` (default) or ``"text"``.
        random_weights: the architecture without its weights (seeded init).

    Raises:
        ValueError: bad modality, unknown architecture, or no pretrained tag given.
        WeightsUnavailableError: weights that cannot be downloaded or found.
        UnsafeWeightsError: a pickled checkpoint holding more than tensors.
    """

    def __init__(
        self, identifier: str, *, modality: str = "image", random_weights: bool = False
    ) -> None:
        if modality not in ("image", "text"):
            raise ValueError(f"open_clip:{identifier}: modality must be 'image' or 'text'")
        self.modality = modality
        model_name, pretrained = parse_open_clip_name(identifier)
        model, transform = _create(identifier, model_name, pretrained, random_weights)
        self.model = model.eval()
        if modality == "image":
            self.transform = RGBTransform(transform)
        else:
            import open_clip

            self.tokenizer = open_clip.get_tokenizer(model_name)
        self._dim = self._probe_dim()

    def _probe_dim(self) -> int:
        item = "a" if self.modality == "text" else Image.new("RGB", (32, 32))
        with torch.inference_mode():
            return int(self.forward(self.collate([self.preprocess(item)])).shape[1])

    def preprocess(self, item: Any) -> Any:
        """Images -> ``(3, H, W)`` with the model's eval transform; texts unchanged."""
        return self.transform(item) if self.modality == "image" else item

    def collate(self, batch: list[Any]) -> torch.Tensor:
        """``(B, 3, H, W)`` images, or ``(B, context_length)`` token ids for texts."""
        return torch.stack(batch) if self.modality == "image" else self.tokenizer(list(batch))

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """``encode_image`` or ``encode_text``: ``(B, embed_dim)``."""
        if self.modality == "image":
            return self.model.encode_image(batch)
        return self.model.encode_text(batch)

    def length(self, item: Any) -> int:
        """Texts are padded to the full context length, so no sorting is needed."""
        return 0


def _create(identifier: str, model_name: str, tag: str | None, random_weights: bool):
    """``(model, eval transform)`` from open_clip with reprlearn's errors."""
    import open_clip

    local = model_name.startswith(("hf-hub:", "local-dir:"))
    if tag is None and not local and not random_weights:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(model_name)) or "none known"
        raise ValueError(
            f"open_clip:{identifier}: name the pretrained weights, open_clip:{model_name}/TAG "
            f"(tags: {tags}), or pass --random-weights (random_weights=True) for random init"
        )
    try:
        model, _, transform = open_clip.create_model_and_transforms(
            model_name,
            pretrained=None if random_weights and not local else tag,
            load_weights=not random_weights,
        )
    except pickle.UnpicklingError as e:
        raise unsafe_pickle_error(f"open_clip:{identifier}", e, tag or identifier) from None
    except RuntimeError as e:
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        text = text.split(". Available")[0]
        if "not found" in text.lower() and "model" in text.lower() and "weights" not in text:
            raise ValueError(
                f"open_clip:{identifier}: {text}; see open_clip.list_models()"
            ) from None
        raise WeightsUnavailableError(
            f"open_clip:{identifier}: pretrained weights are unavailable offline ({text}). "
            "Get them: run once with network access (they stay in the Hugging Face cache), "
            f"or give a folder with open_clip_config.json and weights; {RANDOM_WEIGHTS_HINT}"
        ) from e
    except OSError as e:
        raise WeightsUnavailableError(
            f"open_clip:{identifier}: could not load the weights ({e}); {RANDOM_WEIGHTS_HINT}"
        ) from e
    return model, transform


@register(
    "open_clip",
    description="OpenCLIP model, image tower (or text tower with modality=text)",
    example="open_clip:ViT-B-32/laion2b_s34b_b79k",
    requires=("open_clip",),
    needs_download=True,
)
def _open_clip(identifier: str, **options: Any) -> OpenCLIPEncoder:
    if not identifier:
        raise ValueError("open_clip needs a model, e.g. open_clip:ViT-B-32/laion2b_s34b_b79k")
    return OpenCLIPEncoder(identifier, **options)
