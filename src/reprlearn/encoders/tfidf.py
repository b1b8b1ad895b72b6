"""Classical text encoders fitted on the data: ``tfidf[:V]`` and ``lsa:D``.

``tfidf`` is scikit-learn's ``TfidfVectorizer`` (unigrams + bigrams, sublinear tf,
``min_df=2``, the ``V`` most frequent terms, default 4096, L2-normalised rows) as dense
float32. ``lsa:D`` is latent semantic analysis (Deerwester et al. 1990): TF-IDF over up
to 65,536 terms followed by a seeded ``TruncatedSVD`` to ``D`` dims. Fitted state
(vocabulary, idf, SVD components) is saved as arrays + JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from reprlearn.encoders.base import Encoder
from reprlearn.encoders.classical import _positive_int
from reprlearn.encoders.registry import register
from reprlearn.errors import DataError

_TFIDF_PARAMS = {"ngram_range": (1, 2), "sublinear_tf": True, "min_df": 2, "dtype": np.float32}


def _vectorizer(vocabulary: list[str] | None = None, max_features: int | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(vocabulary=vocabulary, max_features=max_features, **_TFIDF_PARAMS)


class TfidfEncoder(Encoder):
    """TF-IDF vectors ``(n, V)`` (dense float32, rows L2-normalised)."""

    requires_fit = True
    modality = "text"

    def __init__(self, max_features: int = 4096) -> None:
        self.max_features = max_features

    def fit(self, items: Sequence[str]) -> TfidfEncoder:
        """Learn the vocabulary and idf weights of ``items``.

        Raises:
            DataError: no word occurs in at least two texts (``min_df=2``): the texts are
                empty, only punctuation, or too few (scikit-learn's "empty vocabulary").
        """
        vec = _vectorizer(max_features=self.max_features)
        try:
            vec.fit(items)
        except ValueError as e:
            if not any(m in str(e) for m in ("vocabulary", "no terms remain", "min_df")):
                raise
            raise DataError(
                f"{self.name or 'tfidf'}: the {len(items)} texts have no words to build a vocabulary "
                "from (a word must occur in at least 2 texts); the texts are empty, only "
                "punctuation or too few. Add texts, or use an encoder that needs no fitting "
                "(e.g. minilm)"
            ) from None
        self._set(sorted(vec.vocabulary_, key=vec.vocabulary_.get), vec.idf_)
        return self

    def _set(self, vocabulary: list[str], idf: np.ndarray) -> None:
        self.vocabulary_ = vocabulary
        self.vectorizer_ = _vectorizer(vocabulary=vocabulary)
        self.vectorizer_.idf_ = np.asarray(idf, dtype=np.float32)
        self.fitted_ = True

    def sparse(self, items: Sequence[str]):
        """Sparse TF-IDF matrix ``(n, V)`` (scipy CSR)."""
        return self.vectorizer_.transform(items)

    def encode(self, items: Sequence[str]) -> np.ndarray:
        return self.sparse(items).toarray().astype(np.float32)

    @property
    def dim(self) -> int:
        return len(getattr(self, "vocabulary_", ()))  # 0 before fit: the vocabulary is learned

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return {"idf": self.vectorizer_.idf_}, {"vocabulary": self.vocabulary_}

    def load_state(self, arrays, config) -> TfidfEncoder:
        self._set(config["vocabulary"], arrays["idf"])
        return self


class LSAEncoder(TfidfEncoder):
    """Latent semantic analysis: TF-IDF then truncated SVD to ``n_components`` dims."""

    def __init__(self, n_components: int, max_features: int = 65536) -> None:
        super().__init__(max_features)
        self.n_components = n_components

    def fit(self, items: Sequence[str]) -> LSAEncoder:
        from sklearn.decomposition import TruncatedSVD

        super().fit(items)
        X = self.sparse(items)
        if self.n_components >= min(X.shape):
            raise ValueError(f"lsa:{self.n_components}: at most {min(X.shape) - 1} for this data")
        svd = TruncatedSVD(self.n_components, algorithm="randomized", random_state=0).fit(X)
        self.components_ = svd.components_.astype(np.float32)
        return self

    def encode(self, items: Sequence[str]) -> np.ndarray:
        return np.asarray(self.sparse(items) @ self.components_.T, dtype=np.float32)

    @property
    def dim(self) -> int:
        return self.n_components

    def state(self):
        arrays, config = super().state()
        return {**arrays, "components": self.components_}, config

    def load_state(self, arrays, config) -> LSAEncoder:
        super().load_state(arrays, config)
        self.components_ = arrays["components"]
        return self


@register("tfidf", description="TF-IDF, unigrams+bigrams, V terms (default 4096)", example="tfidf")
def _tfidf(identifier: str, **options: Any) -> Encoder:
    return TfidfEncoder(_positive_int(identifier, "tfidf", default=4096))


@register(
    "lsa",
    description="latent semantic analysis: TF-IDF + truncated SVD to D dims",
    example="lsa:256",
)
def _lsa(identifier: str, **options: Any) -> Encoder:
    return LSAEncoder(_positive_int(identifier, "lsa"))
