"""Contextual word vectors and word senses: the same word in different sentences.

A transformer gives each token a vector that depends on its sentence, so "bank" by the
river and "bank" with the loan get different vectors; a static encoder (word2vec,
model2vec) gives one vector per word, whatever the sentence. :func:`word_senses` takes
the word's vector in each sentence — the mean of the transformer's last-layer outputs
over the word's word-pieces (found with the tokenizer's character offsets) — and measures
how well they separate senses:

* the ``(n, n)`` cosine matrix and a 2-D PCA map;
* k-means (on unit vectors, ``k`` = number of senses, default 2) into clusters, and
  their **purity** against known senses (share of sentences whose cluster's majority
  sense is their own);
* a WiC-style **same-sense accuracy** (Pilehvar & Camacho-Collados 2019, "WiC: the
  word-in-context dataset"): a pair of sentences is called same-sense when the cosine of
  the word's two vectors exceeds a threshold fitted (best accuracy) on a seeded random
  half of the pairs; the accuracy is measured on the other half.
"""

from __future__ import annotations

import csv
import io
import re
from importlib import resources
from typing import Any

import numpy as np

from reprlearn.errors import DataError

BUILTIN = "homonyms.csv"


def builtin_examples(word: str | None = None) -> dict[str, tuple[list[str], list[str]]]:
    """The shipped example sentences: ``{word: (texts, senses)}`` (one word, or all)."""
    text = (
        resources.files("reprlearn.words")
        .joinpath("data")
        .joinpath(BUILTIN)
        .read_text(encoding="utf-8")
    )
    out: dict[str, tuple[list[str], list[str]]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        texts, senses = out.setdefault(row["word"], ([], []))
        texts.append(row["text"])
        senses.append(row["sense"])
    if word is None:
        return out
    if word not in out:
        raise DataError(
            f"no built-in sentences for {word!r} (built-in: {', '.join(out)}); pass --sentences FILE"
        )
    return {word: out[word]}


def find_word(word: str, text: str) -> tuple[int, int] | None:
    """Character span of the first whole-word, case-insensitive occurrence of ``word``."""
    m = re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text, flags=re.IGNORECASE)
    return m.span() if m else None


def _transformer_parts(encoder: Any) -> tuple[Any, Any] | None:
    """(tokenizer, transformers model) of an ``st:``/``hf:`` text encoder, else None."""
    from reprlearn.encoders.huggingface import HFEncoder
    from reprlearn.encoders.sentence_transformers import SentenceTransformerEncoder

    if isinstance(encoder, SentenceTransformerEncoder):
        first = encoder.model[0]
        if hasattr(first, "auto_model"):
            return first.tokenizer, first.auto_model
    if isinstance(encoder, HFEncoder) and encoder.modality == "text":
        return encoder.tokenizer, encoder.model
    return None


def is_static(encoder: Any) -> bool:
    """True for encoders with one vector per word whatever its sentence."""
    from reprlearn.encoders.static import StaticEncoder
    from reprlearn.encoders.word_vectors import WordVectorEncoder

    return isinstance(encoder, StaticEncoder | WordVectorEncoder)


def token_vectors(encoder: Any, word: str, texts: list[str], batch_size: int = 32) -> np.ndarray:
    """The vector of ``word`` in each text: float32 ``(n, dim)``.

    Transformers (``st:``, ``hf:``, ``minilm``): mean of the last hidden states of the
    word-pieces overlapping the word's first occurrence. Static encoders: the word's one
    vector, repeated.

    Raises:
        DataError: a text without the word (names its row), an encoder without token
            outputs, or the word cut off by the model's maximum length.
    """
    import torch

    missing = [i for i, t in enumerate(texts) if find_word(word, t) is None]
    if missing:
        raise DataError(
            f"{word!r} does not occur (as a whole word) in sentence row {missing[0] + 1}: {texts[missing[0]][:80]!r} ({len(missing)} such rows); fix or drop them"
        )
    if is_static(encoder):
        return np.repeat(encoder.encode([word]).astype(np.float32), len(texts), axis=0)
    parts = _transformer_parts(encoder)
    if parts is None:
        raise DataError(
            f"{encoder.name or type(encoder).__name__} has no token outputs; words context needs a "
            "transformers or sentence-transformers text encoder (minilm, st:PATH, hf:PATH), or a "
            "static one (static:, w2v:, fasttext:, glove:) to see that static vectors ignore context"
        )
    tokenizer, model = parts
    model.eval()
    out = []
    for lo in range(0, len(texts), batch_size):
        chunk = texts[lo : lo + batch_size]
        enc = tokenizer(
            chunk, return_offsets_mapping=True, padding=True, truncation=True, return_tensors="pt"
        )
        offsets = enc.pop("offset_mapping")
        with torch.inference_mode():
            hidden = (
                model(**{k: v.to(model.device) for k, v in enc.items()})
                .last_hidden_state.float()
                .cpu()
            )
        for j, text in enumerate(chunk):
            start, end = find_word(word, text)
            s, e = offsets[j, :, 0], offsets[j, :, 1]
            mask = (s < end) & (e > start) & (e > s)
            if not mask.any():
                raise DataError(
                    f"sentence row {lo + j + 1}: {word!r} falls beyond the model's maximum length; shorten the sentence"
                )
            out.append(hidden[j][mask].mean(0).numpy())
    return np.stack(out).astype(np.float32)


def purity(clusters: np.ndarray, senses: np.ndarray) -> float:
    """Clustering purity: ``sum over clusters of max_s |cluster ∩ sense s| / n``."""
    total = 0
    for c in np.unique(clusters):
        _, counts = np.unique(senses[clusters == c], return_counts=True)
        total += counts.max()
    return float(total / len(clusters))


def same_sense_accuracy(sim: np.ndarray, senses: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """WiC-style accuracy: threshold on cosine fitted on half the pairs, scored on the rest.

    Returns ``{"accuracy", "threshold", "fit_pairs", "test_pairs", "majority"}``
    (``majority``: accuracy of always answering the commoner class on the test half).
    """
    i, j = np.triu_indices(len(senses), k=1)
    cos, same = sim[i, j], senses[i] == senses[j]
    order = np.random.default_rng(seed).permutation(len(cos))
    fit, test = order[: len(order) // 2], order[len(order) // 2 :]
    candidates = np.unique(cos[fit])
    candidates = np.concatenate(
        [[candidates[0] - 1e-6], (candidates[:-1] + candidates[1:]) / 2, [candidates[-1] + 1e-6]]
    )
    acc = [np.mean((cos[fit] > t) == same[fit]) for t in candidates]
    threshold = float(candidates[int(np.argmax(acc))])
    test_same = same[test]
    return {
        "accuracy": float(np.mean((cos[test] > threshold) == test_same)),
        "threshold": threshold,
        "fit_pairs": int(len(fit)),
        "test_pairs": int(len(test)),
        "majority": float(max(test_same.mean(), 1 - test_same.mean())),
    }


def word_senses(
    encoder: Any,
    word: str,
    texts: list[str] | None = None,
    senses: list[str] | None = None,
    *,
    n_senses: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """How the vectors of ``word`` in ``texts`` separate its senses.

    Args:
        encoder: an encoder name or object: ``st:``/``hf:``/``minilm`` (contextual) or
            ``static:``/``w2v:``/``fasttext:``/``glove:`` (static).
        word: the word; texts: sentences containing it (default: the built-in examples
            for ``word``, with their senses).
        senses: each sentence's sense (enables purity and same-sense accuracy).
        n_senses: clusters for k-means (default: number of distinct senses, else 2).
        seed: seed of k-means and of the half split of pairs.

    Returns:
        ``{"word", "n", "encoder", "static", "note", "purity", "same_sense_accuracy",
        "threshold", "clusters", "senses", "texts", "similarity", "map"}``
        (``similarity`` ``(n, n)`` and ``map`` ``(n, 2)`` as nested lists; purity and
        accuracy None without senses).

    Raises:
        DataError: fewer than 3 sentences, missing word, unsuitable encoder.
    """
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    from reprlearn.encoders import load_encoder

    if isinstance(encoder, str):
        encoder = load_encoder(encoder)
    if texts is None:
        texts, builtin_senses = builtin_examples(word)[word]
        senses = builtin_senses if senses is None else senses
    if len(texts) < 3:
        raise DataError(f"words context needs at least 3 sentences with {word!r}, got {len(texts)}")
    if senses is not None and len(senses) != len(texts):
        raise DataError(f"{len(senses)} senses for {len(texts)} sentences")
    X = token_vectors(encoder, word, list(texts))
    U = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    sim = np.clip(U @ U.T, -1, 1)
    static = bool(np.allclose(U, U[0], atol=1e-6))
    k = n_senses or (len(set(senses)) if senses is not None else 2)
    k = max(1, min(k, len(texts)))
    clusters = (
        np.zeros(len(texts), int)
        if static
        else KMeans(k, n_init=10, random_state=seed).fit_predict(U)
    )
    points = np.zeros((len(texts), 2)) if static else PCA(2, random_state=seed).fit_transform(U)
    result: dict[str, Any] = {
        "word": word, "n": len(texts), "encoder": getattr(encoder, "name", ""), "static": static,
        "note": (f"{encoder.name or 'this encoder'} gives {word!r} the same vector in every sentence: "
                 "a static embedding cannot tell senses apart" if static else
                 "contextual: the word's vector depends on its sentence"),
        "purity": None, "same_sense_accuracy": None, "threshold": None,
        "clusters": clusters.tolist(), "senses": list(senses) if senses is not None else None,
        "texts": list(texts), "similarity": sim.round(4).tolist(), "map": points.round(4).tolist(),
    }  # fmt: skip
    if senses is not None:
        s = np.asarray(senses)
        result["purity"] = purity(clusters, s)
        wic = same_sense_accuracy(sim, s, seed)
        result.update(
            same_sense_accuracy=wic["accuracy"],
            threshold=wic["threshold"],
            majority_baseline=wic["majority"],
            test_pairs=wic["test_pairs"],
        )
    return result
