"""reprlearn: representation learning on your own data.

The public API (imported lazily, so ``import reprlearn`` is fast)::

    ds = reprlearn.load_dataset("digits")
    enc = reprlearn.load_encoder("pca:32")
    store = reprlearn.embed(ds, enc, out="emb/digits-pca32")
    X, y = store.to_numpy()
    reprlearn.inspect(store, out="inspect/")     # similarity matrix, neighbours, map, geometry
    reprlearn.probe(store, protocol="linear")    # linear / kNN / k-means / SentEval / MTEB
    reprlearn.compare("digits", ["pixels", "pca:16"], out="reports/digits")

Every name in ``__all__`` resolves to the public function or class, however often it is
used and whatever was imported before: importing a submodule that shares a public
name (``reprlearn.embed`` the module vs ``reprlearn.embed`` the function) never
replaces the function on the package.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "load_dataset": "reprlearn.data",
    "load_encoder": "reprlearn.encoders",
    "Encoder": "reprlearn.encoders",
    "TorchEncoder": "reprlearn.encoders",
    "embed": "reprlearn.embed",
    "encode_items": "reprlearn.embed",
    "RayOptions": "reprlearn.distributed.ray_engine",
    "EmbeddingStore": "reprlearn.store",
    "same_space": "reprlearn.store",
    "inspect": "reprlearn.analysis.inspect",
    "probe": "reprlearn.evaluation.probe",
    "sts": "reprlearn.evaluation.sts",
    "compare": "reprlearn.report.compare",
    "pretrain": "reprlearn.training.pretrain",
    "finetune": "reprlearn.adapt.finetune",
    "augment_text": "reprlearn.augment.text",
    "image_augment": "reprlearn.augment.recipes",
    "augment_images": "reprlearn.augment.recipes",
    "BatchMixing": "reprlearn.augment.mixing",
    "BatchedAugment": "reprlearn.augment.batched",
    "FinetuneResult": "reprlearn.adapt.finetune",
    "load_classifier": "reprlearn.adapt.classifier",
    "init_stats": "reprlearn.adapt.init_stats",
    "train_word_vectors": "reprlearn.words.train",
    "evaluate_word_vectors": "reprlearn.words.evaluate",
    "word_senses": "reprlearn.words.context",
    "load_vectors": "reprlearn.words.vectors",
    "distill_static": "reprlearn.words.distill",
    "search": "reprlearn.search.query",
    "build_index": "reprlearn.search.index",
    "find_duplicates": "reprlearn.search.duplicates",
    "find_leakage": "reprlearn.search.leakage",
    "export_tensorboard": "reprlearn.explore.tensorboard",
    "explore": "reprlearn.explore.launch",
    "explain": "reprlearn.explain.api",
}

__all__ = sorted(_EXPORTS)


def _resolve(name: str) -> Any:
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return _resolve(name)
    raise AttributeError(f"module 'reprlearn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


class _Package(types.ModuleType):
    """The package module: public names win over same-named submodules, which the
    import system sets as package attributes when they are first imported."""

    def __getattribute__(self, name: str) -> Any:
        if name in _EXPORTS:
            return _resolve(name)
        return super().__getattribute__(name)


sys.modules[__name__].__class__ = _Package
