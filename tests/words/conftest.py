"""Fixtures of the word-level tests: constructed vectors whose geometry is known."""

from __future__ import annotations

import numpy as np
import pytest


def keyed_vectors(table: dict[str, list[float]], counts: dict[str, int] | None = None):
    """gensim ``KeyedVectors`` holding exactly ``table`` (optional word counts)."""
    from gensim.models import KeyedVectors

    words = list(table)
    kv = KeyedVectors(len(next(iter(table.values()))), count=0)
    kv.add_vectors(words, np.array([table[w] for w in words], dtype=np.float32))
    if counts is not None:
        kv.expandos["count"] = np.array([counts[w] for w in words], dtype=np.int64)
    return kv


@pytest.fixture
def royal():
    """Axes: royalty, maleness, femaleness, fruit. ``king - man + woman`` is exactly
    ``queen``; ``prince`` is a near miss; ``apple`` is unrelated."""
    return keyed_vectors(
        {
            "king": [1, 1, 0, 0],
            "queen": [1, 0, 1, 0],
            "man": [0, 1, 0, 0.1],
            "woman": [0, 0, 1, 0.1],
            "prince": [0.8, 1, 0.2, 0],
            "apple": [0, 0, 0, 1],
            "kingdom": [1, 0.3, 0.3, 0.2],
        }
    )
