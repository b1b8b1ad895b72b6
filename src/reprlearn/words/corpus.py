"""Text corpora for training word vectors: any source ``load_dataset`` reads, or a folder of
such sources (SentEval's root: MR, CR, SUBJ, MPQA, TREC, SST2), tokenised with
:func:`reprlearn.words.tokenize.tokenize`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reprlearn.errors import DataError
from reprlearn.words.tokenize import tokenize


def corpus_sources(source: str) -> list[str]:
    """The sources of ``source``: itself, or each subfolder of a folder whose subfolders
    hold text (``senteval/`` -> ``senteval/CR``, ``senteval/MR``, ...), sorted."""
    path = Path(source)
    if path.is_dir():
        subs = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
        if subs and not any(
            p.is_file() and p.suffix.lower() in (".jpg", ".png", ".jpeg")
            for s in subs
            for p in s.iterdir()
        ):
            return [str(p) for p in subs]
    return [source]


def read_corpus(source: str, **data_options: Any) -> tuple[list[list[str]], dict[str, Any]]:
    """Tokenised sentences of ``source`` and facts about them.

    Args:
        source: a file or folder ``load_dataset`` reads (``.txt`` one sentence per line,
            CSV/JSONL with ``text_column``, SentEval folders), or a folder of such folders.
        **data_options: passed to :func:`reprlearn.load_dataset` (``text_column``,
            ``encoding``, ...).

    Returns:
        ``(sentences, facts)``: lists of tokens (empty lines dropped) and
        ``{"sources", "sentences", "tokens", "types"}``.

    Raises:
        DataError: a source with no text column, or a corpus with no tokens at all.
    """
    from reprlearn.data import load_dataset

    sentences: list[list[str]] = []
    sources = corpus_sources(source)
    for src in sources:
        ds = load_dataset(src, **data_options)
        if "text" not in ds.column_names:
            raise DataError(
                f"{src}: has no text to train word vectors on (columns: {ds.column_names})"
            )
        sentences += [t for t in (tokenize(x or "") for x in ds["text"]) if t]
    n_tokens = sum(len(s) for s in sentences)
    if n_tokens == 0:
        raise DataError(
            f"{source}: the corpus is empty (no words found); give a text file or folder with sentences"
        )
    types = len({w for s in sentences for w in s})
    facts = {"sources": sources, "sentences": len(sentences), "tokens": n_tokens, "types": types}
    return sentences, facts
