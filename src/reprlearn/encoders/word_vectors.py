"""``w2v:PATH``, ``fasttext:PATH``, ``glove:PATH`` (``:sif`` for SIF weighting): a text is
the mean of its word vectors, looked up in gensim ``KeyedVectors``.

Texts are tokenised by :func:`reprlearn.words.tokenize.tokenize` (as ``words train``
does). Out-of-vocabulary tokens are skipped (word2vec, GloVe) or built from character
n-grams (fastText) and counted; :meth:`WordVectorEncoder.describe` puts the counts in the
store's manifest. A text with no known word gets the zero vector (counted as empty).

``:sif`` is the smooth inverse frequency embedding of Arora, Liang & Ma 2017, "A simple
but tough-to-beat baseline for sentence embeddings" (ICLR): the average of
``a / (a + p(w)) * v_w`` with ``a = 1e-3``, then the projection on the first singular
vector ``u`` of the fitted texts' averages removed: ``v_s - u u^T v_s``. ``p(w)`` comes
from the vectors' training counts (``words train`` records them), else from the texts
the encoder is fitted on. The fitted state (weights, ``u``) is saved as arrays + JSON.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reprlearn.encoders.base import Encoder
from reprlearn.encoders.registry import register
from reprlearn.words.tokenize import tokenize

SIF_A = 1e-3


class WordVectorEncoder(Encoder):
    """Mean of word vectors: texts -> float32 ``(n, dim)``.

    Args:
        path: vectors folder (``words train``) or file (word2vec / GloVe / fastText).
        kind: ``"w2v"``, ``"fasttext"`` or ``"glove"`` (how to read ``path``).

    Raises:
        DataError: ``path`` missing or in another format (see :func:`load_vectors`).
    """

    modality = "text"

    def __init__(self, path: str, kind: str = "w2v") -> None:
        from reprlearn.words.vectors import load_vectors

        self.path, self.kind = str(Path(path).resolve()), kind
        self.kv = load_vectors(path, kind)
        self.subwords = hasattr(self.kv, "vectors_ngrams")
        self.tokens_, self.oov_, self.empty_, self.texts_ = 0, Counter(), 0, 0

    def weights(self, words: list[str]) -> np.ndarray:
        """Per-word weights (all 1 for the plain mean)."""
        return np.ones(len(words), dtype=np.float32)

    def _lookup(self, tokens: list[str]) -> tuple[np.ndarray, list[str]]:
        known = [t for t in tokens if t in self.kv.key_to_index]
        missing = [t for t in tokens if t not in self.kv.key_to_index]
        self.oov_.update(missing)
        used = tokens if self.subwords else known
        if not used:
            return np.zeros((0, self.kv.vector_size), np.float32), used
        return np.stack([self.kv[t] for t in used]).astype(np.float32), used

    def average(self, items: Sequence[str]) -> np.ndarray:
        """Weighted averages ``(n, dim)`` before any component removal."""
        out = np.zeros((len(items), self.kv.vector_size), np.float32)
        for i, text in enumerate(items):
            tokens = tokenize(text or "")
            self.tokens_ += len(tokens)
            self.texts_ += 1
            vectors, used = self._lookup(tokens)
            if not used:
                self.empty_ += 1
                continue
            w = self.weights(used)
            out[i] = (w[:, None] * vectors).sum(0) / len(used)
        return out

    def encode(self, items: Sequence[str]) -> np.ndarray:
        return self.average(items)

    @property
    def dim(self) -> int:
        return int(self.kv.vector_size)

    def describe(self) -> dict[str, Any]:
        n_oov = sum(self.oov_.values())
        return {
            **super().describe(),
            "vectors": self.path,
            "vocab_size": len(self.kv.index_to_key),
            "weighting": "mean",
            "tokens": self.tokens_,
            "oov_tokens": n_oov,
            "oov_share": n_oov / self.tokens_ if self.tokens_ else 0.0,
            "oov_types": len(self.oov_),
            "oov_examples": [w for w, _ in self.oov_.most_common(10)],
            "oov_handling": "built from character n-grams" if self.subwords else "skipped",
            "empty_texts": self.empty_,
        }


class SIFEncoder(WordVectorEncoder):
    """SIF sentence embeddings (Arora et al. 2017), fitted on the texts: ``(n, dim)``."""

    requires_fit = True

    def __init__(self, path: str, kind: str = "w2v", a: float = SIF_A) -> None:
        super().__init__(path, kind)
        self.a = a

    def fit(self, items: Sequence[str]) -> SIFEncoder:
        """Word probabilities (training counts, else ``items``) and the first singular vector."""
        counts = np.asarray(self.kv.expandos.get("count", np.zeros(0)), dtype=np.float64)
        if counts.size == len(self.kv.index_to_key) and counts.sum() > 0:
            self.frequency_source_ = "training counts of the vectors"
            freq = counts
        else:
            self.frequency_source_ = "the fitted texts"
            tally = Counter(t for text in items for t in tokenize(text or ""))
            freq = np.array([tally.get(w, 0) for w in self.kv.index_to_key], dtype=np.float64)
        p = freq / max(freq.sum(), 1.0)
        self.word_weights_ = (self.a / (self.a + p)).astype(np.float32)
        self.component_ = np.zeros(self.dim, np.float32)
        X = self.average(items)
        self.tokens_, self.oov_, self.empty_, self.texts_ = 0, Counter(), 0, 0  # count encode only
        self.component_ = first_singular_vector(X)
        self.fitted_ = True
        return self

    def weights(self, words: list[str]) -> np.ndarray:
        idx = self.kv.key_to_index
        # an OOV word built from subwords (fastText) has p(w) = 0: weight a / a = 1
        return np.array(
            [self.word_weights_[idx[w]] if w in idx else 1.0 for w in words], np.float32
        )

    def encode(self, items: Sequence[str]) -> np.ndarray:
        X = self.average(items)
        u = self.component_
        return (X - np.outer(X @ u, u)).astype(np.float32)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "weighting": f"sif (a={self.a}, first singular vector removed)",
            "frequencies": getattr(self, "frequency_source_", None),
        }

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {"word_weights": self.word_weights_, "component": self.component_}
        return arrays, {"a": self.a, "frequencies": self.frequency_source_, "vectors": self.path}

    def load_state(self, arrays, config) -> SIFEncoder:
        self.word_weights_, self.component_ = arrays["word_weights"], arrays["component"]
        self.a, self.frequency_source_, self.fitted_ = config["a"], config["frequencies"], True
        return self


def first_singular_vector(X: np.ndarray) -> np.ndarray:
    """Unit first right singular vector of ``X`` ``(n, dim)`` (uncentred, as in the SIF
    reference code's ``TruncatedSVD(1)``); zeros when ``X`` is all zeros."""
    if not np.any(X):
        return np.zeros(X.shape[1], np.float32)
    _, _, vt = np.linalg.svd(X.astype(np.float64), full_matrices=False)
    return vt[0].astype(np.float32)


def _factory(kind: str):
    def build(identifier: str, **options: Any) -> Encoder:
        if not identifier:
            raise ValueError(
                f"{kind} needs vectors, e.g. {kind}:vectors/senteval-w2v (train them with `reprlearn words train`)"
            )
        path, _, weighting = identifier.rpartition(":")
        if weighting not in ("sif", "mean") or not path:
            path, weighting = identifier, "mean"
        if not Path(path).exists():
            raise ValueError(
                f"{kind}:{identifier}: no such vectors file or folder {path!r}; train one with `reprlearn words train`"
            )
        return SIFEncoder(path, kind) if weighting == "sif" else WordVectorEncoder(path, kind)

    return build


for _kind, _desc, _example in (
    (
        "w2v",
        "mean (or :sif) of word2vec vectors: a words-train folder or .bin/.txt file",
        "w2v:vectors/senteval-w2v",
    ),
    (
        "fasttext",
        "mean (or :sif) of fastText vectors, OOV words from subwords",
        "fasttext:vectors/ft",
    ),
    (
        "glove",
        "mean (or :sif) of GloVe vectors (GloVe's text format)",
        "glove:glove.6B.100d.txt:sif",
    ),
):
    register(_kind, description=_desc, example=_example, requires=("gensim",))(_factory(_kind))
