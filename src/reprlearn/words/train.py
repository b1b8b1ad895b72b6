"""``train_word_vectors``: word2vec (Mikolov et al. 2013) or fastText (Bojanowski et al.
2017) trained with gensim on a text source, saved as a vectors folder (no pickle)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from reprlearn.errors import DataError
from reprlearn.words.corpus import read_corpus
from reprlearn.words.vectors import save_vectors

METHODS = ("word2vec", "fasttext")


def _epoch_callback(advance):
    from gensim.models.callbacks import CallbackAny2Vec

    class _Progress(CallbackAny2Vec):
        def on_epoch_end(self, model) -> None:
            advance(1)

    return _Progress()


def train_word_vectors(
    source: str,
    out: str | Path,
    *,
    method: str = "word2vec",
    sg: bool = False,
    dim: int = 100,
    window: int = 5,
    min_count: int = 5,
    epochs: int = 5,
    workers: int = 2,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = True,
    **data_options: Any,
) -> dict[str, Any]:
    """Train word vectors on ``source`` and save them to the vectors folder ``out``.

    Args:
        source: a text file/folder ``load_dataset`` reads, or a folder of them (SentEval).
        out: output folder (``vectors.npz``, ``vocab.txt``, ``manifest.json``).
        method: ``"word2vec"`` (gensim ``Word2Vec``) or ``"fasttext"`` (gensim ``FastText``:
            character 3-6-grams, so unseen words get vectors).
        sg: skip-gram (True) or CBOW (False, gensim's default).
        dim: vector size (default 100); window: context size (default 5);
        min_count: drop words seen fewer times (default 5); epochs: passes (default 5).
        workers: training threads (default 2); seed: gensim's seed (default 0).
        overwrite: replace an existing vectors folder at ``out``.
        progress: show a bar over epochs.
        **data_options: passed to :func:`reprlearn.load_dataset`.

    Returns:
        the manifest written (method, options, corpus facts, vocab size, seconds).

    Raises:
        DataError: unknown method, bad option, empty corpus, or no word reaching
            ``min_count``.
    """
    from reprlearn.outdir import writer_lock
    from reprlearn.progress import progress_bar
    from reprlearn.words.vectors import fresh_out_dir

    if method not in METHODS:
        raise DataError(f"--method {method!r}: choose one of {', '.join(METHODS)}")
    for name, value in (
        ("dim", dim),
        ("window", window),
        ("min-count", min_count),
        ("epochs", epochs),
    ):
        if value < 1:
            raise DataError(f"--{name} must be >= 1, got {value}")
    sentences, facts = read_corpus(source, **data_options)
    from gensim.models import FastText, Word2Vec

    cls = Word2Vec if method == "word2vec" else FastText
    model = cls(
        vector_size=dim, window=window, min_count=min_count, sg=int(sg), workers=workers, seed=seed
    )
    model.build_vocab(sentences)
    if not model.wv.index_to_key:
        raise DataError(
            f"{source}: no word occurs {min_count} times ({facts['types']} distinct words in "
            f"{facts['tokens']} tokens); lower --min-count"
        )
    out = fresh_out_dir(out, "vectors", overwrite, "manifest.json")
    start = time.perf_counter()
    with (
        writer_lock(out),
        progress_bar(f"{method} epochs", total=epochs, enabled=progress) as advance,
    ):
        model.train(
            sentences,
            total_examples=model.corpus_count,
            epochs=epochs,
            callbacks=[_epoch_callback(advance)],
        )
        manifest = {
            "method": method,
            "source": str(Path(source).resolve()) if Path(source).exists() else source,
            "options": {
                "sg": bool(sg),
                "dim": dim,
                "window": window,
                "min_count": min_count,
                "epochs": epochs,
                "seed": seed,
            },
            "corpus": facts,
            "tokenizer": "reprlearn.words.tokenize (lower-cased letters/digits, inner apostrophes)",
            "seconds": round(time.perf_counter() - start, 3),
        }
        save_vectors(model.wv, out, manifest)
    return {**manifest, "dim": dim, "vocab_size": len(model.wv.index_to_key), "out": str(out)}
