"""``onehot[:V]``: the binary bag of words — one orthogonal dimension per word, 1 where
the word occurs in the text (the sum of one-hot word vectors, clipped at 1).

The baseline word representation: no notion of similarity between words ("film" and
"movie" are as far apart as "film" and "the"). The vocabulary is the ``V`` most frequent
words of the fitted texts (default 10,000; ``onehot:0`` keeps all), tokenised by
:func:`reprlearn.words.tokenize.tokenize` like the word-vector encoders. Computed sparse
(scikit-learn ``CountVectorizer(binary=True)``, CSR); :meth:`OneHotEncoder.encode` returns
the dense float32 rows the Encoder contract asks for, :meth:`OneHotEncoder.sparse` the CSR
matrix. :meth:`OneHotEncoder.describe` records the memory of both per item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from reprlearn.encoders.base import Encoder
from reprlearn.encoders.registry import register
from reprlearn.words.tokenize import tokenize

DEFAULT_VOCAB = 10_000


def _vectorizer(vocabulary: list[str] | None = None, max_features: int | None = None):
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(
        tokenizer=tokenize, lowercase=False, token_pattern=None, binary=True,
        vocabulary=vocabulary, max_features=max_features, dtype=np.float32,
    )  # fmt: skip


class OneHotEncoder(Encoder):
    """Binary bag of words ``(n, V)``: 1.0 where the word occurs, else 0.0.

    Args:
        max_features: keep the ``V`` most frequent words (None: all).
    """

    requires_fit = True
    modality = "text"

    def __init__(self, max_features: int | None = DEFAULT_VOCAB) -> None:
        self.max_features = max_features
        self.nnz_, self.rows_, self.oov_tokens_, self.tokens_ = 0, 0, 0, 0

    def fit(self, items: Sequence[str]) -> OneHotEncoder:
        vec = _vectorizer(max_features=self.max_features).fit(items)
        if not vec.vocabulary_:
            raise ValueError(
                "onehot: the texts contain no words; nothing to build a vocabulary from"
            )
        self.corpus_types_ = (
            len(_vectorizer().fit(items).vocabulary_) if self.max_features else len(vec.vocabulary_)
        )
        self._set(sorted(vec.vocabulary_, key=vec.vocabulary_.get))
        return self

    def _set(self, vocabulary: list[str]) -> None:
        self.vocabulary_ = list(vocabulary)
        self.vectorizer_ = _vectorizer(vocabulary=self.vocabulary_)
        self.fitted_ = True

    def sparse(self, items: Sequence[str]):
        """CSR matrix ``(n, V)`` of 0/1 float32."""
        X = self.vectorizer_.transform(items)
        self.nnz_ += X.nnz
        self.rows_ += X.shape[0]
        return X

    def encode(self, items: Sequence[str]) -> np.ndarray:
        return self.sparse(items).toarray()

    @property
    def dim(self) -> int:
        return len(getattr(self, "vocabulary_", ()))  # 0 before fit: the vocabulary is learned

    def describe(self) -> dict[str, Any]:
        mean_nnz = self.nnz_ / self.rows_ if self.rows_ else 0.0
        return {
            **super().describe(),
            "vocab_size": self.dim,
            "corpus_types": getattr(self, "corpus_types_", None),
            "mean_words_per_item": round(mean_nnz, 2),
            "memory_bytes_per_item": {
                "dense_float32": 4 * self.dim,
                "sparse_csr": round(8 * mean_nnz + 4, 1),  # value + column index, + row pointer
            },
        }

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return {}, {
            "vocabulary": self.vocabulary_,
            "corpus_types": getattr(self, "corpus_types_", None),
        }

    def load_state(self, arrays, config) -> OneHotEncoder:
        self._set(config["vocabulary"])
        self.corpus_types_ = config.get("corpus_types")
        return self


@register(
    "onehot",
    description="binary bag of words (one-hot per word), V words (default 10000; 0 = all)",
    example="onehot",
)
def _onehot(identifier: str, **options: Any) -> Encoder:
    if not identifier:
        return OneHotEncoder()
    if not identifier.isdigit():
        raise ValueError(
            f"onehot:{identifier}: V must be a whole number of words, e.g. onehot:5000 (0 = all)"
        )
    return OneHotEncoder(int(identifier) or None)
