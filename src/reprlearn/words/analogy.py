"""Word analogies and nearest neighbours: 3CosAdd and 3CosMul (Levy & Goldberg 2014,
"Linguistic regularities in sparse and explicit word representations", CoNLL), with the
rank of an expected answer.

``analogy(kv, "king", "man", "woman")`` answers *king is to man as ? is to woman*, i.e.
the word ``x`` nearest ``king - man + woman`` (Mikolov et al. 2013):

* 3CosAdd: ``cos(x, king) - cos(x, man) + cos(x, woman)``;
* 3CosMul: ``cos'(x, king) * cos'(x, woman) / (cos'(x, man) + eps)`` with
  ``cos' = (cos + 1) / 2`` and ``eps = 1e-3``.

The three query words are excluded from the answers, as in the published evaluations.
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np

from reprlearn.errors import DataError

METHODS = ("3cosadd", "3cosmul")
EPS = 1e-3


def check_words(kv: Any, words: list[str]) -> list[str]:
    """The words of ``words`` not in the vocabulary that ``kv`` cannot build either.

    fastText vectors build any word from character n-grams, so nothing is missing.
    Raises:
        DataError: a word not in a word2vec/GloVe vocabulary, with the nearest spellings.
    """
    missing = [w for w in words if w not in kv.key_to_index]
    if missing and not hasattr(kv, "vectors_ngrams"):
        hints = {w: suggest_spellings(kv, w) for w in missing}
        text = "; ".join(
            f"{w!r} (nearest spellings: {', '.join(h) or 'none'})" for w, h in hints.items()
        )
        raise DataError(f"not in the vocabulary of {len(kv.index_to_key)} words: {text}")
    return missing


def suggest_spellings(kv: Any, word: str, n: int = 5) -> list[str]:
    """Vocabulary words spelled most like ``word``: nearest by character n-grams for
    fastText vectors, else by difflib's ratio among the 100,000 most frequent words."""
    if hasattr(kv, "vectors_ngrams"):
        return [w for w, _ in kv.most_similar(word, topn=n)]
    return difflib.get_close_matches(word, kv.index_to_key[:100_000], n=n, cutoff=0.6)


def _unit(kv: Any, word: str) -> np.ndarray:
    v = np.asarray(kv[word], dtype=np.float32)
    return v / (np.linalg.norm(v) or 1.0)


def analogy_scores(kv: Any, a: str, b: str, c: str, method: str = "3cosadd") -> np.ndarray:
    """Scores ``(V,)`` of every vocabulary word as the answer to ``a : b :: ? : c``
    (``a - b + c``); the query words get ``-inf``."""
    if method not in METHODS:
        raise DataError(f"--method {method!r}: choose 3cosadd or 3cosmul")
    W = kv.get_normed_vectors()
    cos = {w: W @ _unit(kv, w) for w in (a, b, c)}
    if method == "3cosadd":
        scores = cos[a] - cos[b] + cos[c]
    else:
        s = {w: (v + 1) / 2 for w, v in cos.items()}
        scores = s[a] * s[c] / (s[b] + EPS)
    scores = scores.astype(np.float64)
    for w in (a, b, c):
        if w in kv.key_to_index:
            scores[kv.key_to_index[w]] = -np.inf
    return scores


def analogy(
    kv: Any,
    a: str,
    b: str,
    c: str,
    *,
    expected: str | None = None,
    k: int = 10,
    method: str = "3cosadd",
) -> dict[str, Any]:
    """Answers to ``a : b :: ? : c`` (``a - b + c``; ``king man woman`` -> ``queen``).

    Args:
        kv: gensim ``KeyedVectors``; a, b, c: the query words.
        expected: a word whose rank (1 = top answer) and score are reported.
        k: answers listed (default 10); method: ``"3cosadd"`` or ``"3cosmul"``.

    Returns:
        ``{"query", "method", "answers": [[word, score], ...], "expected", "rank", "score",
        "oov"}``; ``rank`` is None when ``expected`` is not in the vocabulary.

    Raises:
        DataError: a query word not in the vocabulary (with the nearest spellings), or
            an unknown method.
    """
    oov = check_words(kv, [a, b, c])
    scores = analogy_scores(kv, a, b, c, method)
    top = [i for i in np.argsort(-scores) if np.isfinite(scores[i])][:k]
    result: dict[str, Any] = {
        "query": f"{a} - {b} + {c}", "method": method,
        "answers": [[kv.index_to_key[i], round(float(scores[i]), 4)] for i in top],
        "oov_built_from_subwords": oov,
    }  # fmt: skip
    if expected is not None:
        i = kv.key_to_index.get(expected)
        result["expected"] = expected
        result["rank"] = None if i is None else int((scores > scores[i]).sum()) + 1
        result["score"] = None if i is None else round(float(scores[i]), 4)
    return result


def neighbors(kv: Any, word: str, k: int = 10) -> dict[str, Any]:
    """The ``k`` nearest words to ``word`` by cosine: ``{"word", "neighbors": [[w, cos]]}``.

    Raises:
        DataError: ``word`` not in a word2vec/GloVe vocabulary (with nearest spellings).
    """
    oov = check_words(kv, [word])
    found = kv.most_similar(word, topn=k)
    return {
        "word": word,
        "neighbors": [[w, round(float(s), 4)] for w, s in found],
        "oov_built_from_subwords": oov,
    }
