"""The word level: train word vectors (gensim), distil static embeddings (model2vec),
evaluate them (analogies, WordSim-353, SimLex-999), analogies and neighbours, and the
senses of a word in context.

One concept per module: :mod:`.tokenize`, :mod:`.corpus`, :mod:`.train`, :mod:`.vectors`,
:mod:`.distill`, :mod:`.evaluate`, :mod:`.analogy`, :mod:`.context` (+ :mod:`.senses_report`), :mod:`.wordmap`,
:mod:`.bag`. Public names are imported lazily.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "tokenize": "tokenize",
    "train_word_vectors": "train",
    "load_vectors": "vectors",
    "open_vectors": "vectors",
    "save_vectors": "vectors",
    "distill_static": "distill",
    "evaluate_word_vectors": "evaluate",
    "analogy": "analogy",
    "neighbors": "analogy",
    "word_senses": "context",
    "word_map": "wordmap",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
