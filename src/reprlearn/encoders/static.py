"""``static:NAME_OR_PATH``: model2vec static embeddings (a text is the mean of its tokens'
rows in a table; no transformer at inference).

* ``static:PATH`` loads a saved model2vec folder (``words distill`` writes one);
* ``static:minilm`` (or ``static:st:PATH`` / a sentence-transformers folder) distils that
  model once, offline, into the cache (``$REPRLEARN_CACHE`` or ``~/.cache/reprlearn``),
  and loads the cached folder afterwards;
* other names are model2vec hub ids (``minishlab/potion-base-8M``; need network or the
  HF cache).

Source: model2vec (Tulkens & van Dongen 2024), ``StaticModel``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reprlearn.encoders.base import Encoder
from reprlearn.encoders.registry import ALIASES, register


def is_static_folder(path: Path) -> bool:
    """True for a folder written by model2vec's ``save_pretrained``: ``config.json`` with
    ``model_type`` ``model2vec``, or a ``model.safetensors`` holding one ``embeddings``
    table beside ``tokenizer.json`` (models built without a model type)."""
    import json

    config = path / "config.json"
    if not config.is_file():
        return False
    try:
        if json.loads(config.read_text()).get("model_type") == "model2vec":
            return True
    except ValueError:
        return False
    weights = path / "model.safetensors"
    if not (weights.is_file() and (path / "tokenizer.json").is_file()):
        return False
    from safetensors import safe_open

    try:
        with safe_open(str(weights), "np") as f:
            return list(f.keys()) == ["embeddings"]
    except Exception:  # not a safetensors file
        return False


def static_model_path(name: str) -> str:
    """The model2vec folder or hub id for ``name``, distilling into the cache if needed."""
    from reprlearn.outdir import writer_lock
    from reprlearn.words.distill import cache_dir, distill_static, resolve_model_folder

    path = Path(name)
    if path.is_dir() and is_static_folder(path):
        return str(path)
    if (
        name in ALIASES
        or name.startswith("st:")
        or (path.is_dir() and (path / "modules.json").is_file())
    ):
        folder = resolve_model_folder(name)
        key = hashlib.sha1(str(Path(folder).resolve()).encode()).hexdigest()[:10]
        cached = cache_dir() / "static" / f"{Path(folder).name}-{key}"
        if not (cached / "reprlearn_distill.json").is_file():
            cached.parent.mkdir(parents=True, exist_ok=True)
            with writer_lock(cached.parent):
                if not (cached / "reprlearn_distill.json").is_file():
                    distill_static(name, cached, overwrite=True)
        return str(cached)
    if path.is_dir():
        raise ValueError(
            f"static:{name}: {name} is neither a model2vec folder (config.json with model_type "
            "model2vec) nor a sentence-transformers folder to distil; write one with `reprlearn words distill`"
        )
    return name  # a hub id


class StaticEncoder(Encoder):
    """model2vec ``StaticModel``: texts -> float32 ``(n, dim)`` (the model's normalisation).

    Raises:
        OSError: a hub id that is not available offline.
    """

    modality = "text"

    def __init__(self, name: str) -> None:
        from model2vec import StaticModel

        self.source = static_model_path(name)
        try:
            self.model = StaticModel.from_pretrained(self.source)
        except Exception as e:  # hub errors come as several exception types
            raise OSError(
                f"static:{name}: could not load a model2vec model ({type(e).__name__}: {e}); give "
                "a folder from `reprlearn words distill`, or static:minilm (distilled offline)"
            ) from None

    def encode(self, items: Sequence[str]) -> np.ndarray:
        return np.asarray(self.model.encode(list(items), show_progress_bar=False), dtype=np.float32)

    def token_vectors(self, word: str) -> np.ndarray:
        """The static vector of ``word`` alone ``(dim,)``: the same in every sentence."""
        return self.encode([word])[0]

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "model": self.source,
            "vocab_size": len(self.model.tokens),
            "static": True,
        }


@register(
    "static",
    description="model2vec static embeddings: a saved folder, static:minilm (distilled offline, cached) or a hub id",
    example="static:minilm",
    requires=("model2vec",),
)
def _static(identifier: str, **options: Any) -> Encoder:
    if not identifier:
        raise ValueError("static needs a model, e.g. static:minilm or static:vectors/minilm-static")
    return StaticEncoder(identifier)
