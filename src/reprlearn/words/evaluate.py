"""``evaluate_word_vectors``: Mikolov's analogy set, WordSim-353 and SimLex-999, through
gensim's ``evaluate_word_analogies`` / ``evaluate_word_pairs`` and its bundled copies of
the files (``gensim.test.utils.datapath``), so nothing is downloaded.

* Analogies (Mikolov et al. 2013, "Efficient estimation of word representations in
  vector space"): accuracy of 3CosAdd over the questions whose four words are in the
  vocabulary (the 300,000 most frequent words), split into the semantic sections and the
  syntactic ``gram*`` sections, with the coverage (answered / all questions).
* Word similarity: Spearman correlation of cosine with human scores over the pairs in
  vocabulary, with the out-of-vocabulary share of pairs. WordSim-353 (Finkelstein et al.
  2002) mixes relatedness and similarity; SimLex-999 (Hill et al. 2015) is similarity only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from reprlearn.errors import DataError

PAIR_SETS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}
ANALOGY_FILE = "questions-words.txt"


def _bundled(name: str) -> str:
    from gensim.test.utils import datapath

    return datapath(name)


def _count_questions(path: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    section = None
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(":"):
            section = line[1:].strip()
            counts[section] = 0
        elif line.strip() and section is not None:
            counts[section] += 1
    if not counts:
        raise DataError(
            f"{path}: no analogy sections; expected ': section' lines followed by 'a b c d' lines (Mikolov's format)"
        )
    return counts


def evaluate_analogies(kv: Any, path: str | None = None) -> dict[str, Any]:
    """3CosAdd analogy accuracy ``{"accuracy", "semantic", "syntactic", "coverage", ...}``.

    ``semantic``/``syntactic`` are accuracies over their answered questions (None when
    none was answered); ``coverage`` = answered / all questions in the file.
    """
    path = path or _bundled(ANALOGY_FILE)
    totals = _count_questions(path)
    _, sections = kv.evaluate_word_analogies(path)
    groups: dict[str, list[int]] = {"semantic": [0, 0], "syntactic": [0, 0]}
    per_section = {}
    for s in sections:
        if s["section"] == "Total accuracy":
            continue
        correct, answered = len(s["correct"]), len(s["correct"]) + len(s["incorrect"])
        group = "syntactic" if s["section"].startswith("gram") else "semantic"
        groups[group][0] += correct
        groups[group][1] += answered
        per_section[s["section"]] = {
            "accuracy": correct / answered if answered else None,
            "answered": answered,
            "questions": totals.get(s["section"], answered),
        }
    correct = sum(g[0] for g in groups.values())
    answered = sum(g[1] for g in groups.values())
    total = sum(totals.values())
    return {
        "file": str(path),
        "accuracy": correct / answered if answered else None,
        "semantic": groups["semantic"][0] / groups["semantic"][1]
        if groups["semantic"][1]
        else None,
        "syntactic": groups["syntactic"][0] / groups["syntactic"][1]
        if groups["syntactic"][1]
        else None,
        "answered": answered,
        "questions": total,
        "coverage": answered / total if total else 0.0,
        "sections": per_section,
    }


def evaluate_pairs(kv: Any, path: str) -> dict[str, Any]:
    """Spearman of cosine vs human scores ``{"spearman", "pearson", "oov_share", "pairs"}``.

    ``path``: tab-separated ``word1 word2 score`` lines (``#`` comments allowed).
    """
    lines = [
        ln
        for ln in Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    bad = [i for i, ln in enumerate(lines) if len(ln.split("\t")) != 3]
    if not lines or bad:
        where = f"line {bad[0] + 1} ({lines[bad[0]][:60]!r})" if bad else "no pairs"
        raise DataError(f"{path}: {where}; expected 'word1<TAB>word2<TAB>score' per line")
    pearson, spearman, oov = kv.evaluate_word_pairs(path)
    rho = float(spearman.statistic if hasattr(spearman, "statistic") else spearman[0])
    return {
        "file": str(path),
        "spearman": None if rho != rho else rho,
        "pearson": None if pearson[0] != pearson[0] else float(pearson[0]),
        "oov_share": float(oov) / 100.0,
        "pairs": len(lines),
    }


def evaluate_word_vectors(
    kv: Any, *, analogies: str | None = None, pairs: list[str] | None = None
) -> dict[str, Any]:
    """Evaluate word vectors on analogies and word-similarity sets.

    Args:
        kv: gensim ``KeyedVectors`` (:func:`reprlearn.words.vectors.open_vectors`).
        analogies: the user's analogy file (Mikolov's format); default the bundled
            ``questions-words.txt``.
        pairs: the user's pair files; default the bundled WordSim-353 and SimLex-999.

    Returns:
        ``{"analogies": {...}, "pairs": {name: {...}}}`` (see :func:`evaluate_analogies`,
        :func:`evaluate_pairs`).

    Raises:
        DataError: a missing or malformed user file (names it and the line).
    """
    for p in [analogies, *(pairs or [])]:
        if p is not None and not Path(p).is_file():
            raise DataError(f"{p}: no such file")
    logging.getLogger("gensim").setLevel(logging.WARNING)
    files = (
        {Path(p).stem: p for p in pairs}
        if pairs
        else {k: _bundled(v) for k, v in PAIR_SETS.items()}
    )
    return {
        "analogies": evaluate_analogies(kv, analogies),
        "pairs": {name: evaluate_pairs(kv, p) for name, p in files.items()},
    }
