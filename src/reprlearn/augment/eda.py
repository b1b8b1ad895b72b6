"""EDA: Easy Data Augmentation for text classification (Wei & Zou, EMNLP 2019,
https://arxiv.org/abs/1901.11196), the four operations of the paper and its reference code:

- **SR** synonym replacement: ``n = max(1, int(alpha * words))`` distinct non-stop words
  that have WordNet synonyms are each replaced (every occurrence) by a random synonym;
- **RI** random insertion: ``n`` times, a random synonym of a random non-stop word is
  inserted at a random position;
- **RS** random swap: ``n`` times, two random words swap places;
- **RD** random deletion: each word is deleted with probability ``p = alpha`` (one random
  word is kept when all would go).

One deviation from the reference code, which lower-cases and keeps letters only: words are
the text's whitespace tokens, with their case and punctuation kept (``"Film,"`` becomes
``"Movie,"``), so texts in other scripts are not erased; WordNet is English, so SR and RI
cannot change them (counted, see :class:`EdaCounts`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from reprlearn.augment.wordnet import synonyms
from reprlearn.errors import ReprlearnError

OPERATIONS = ("sr", "ri", "rs", "rd")
OPERATION_NAMES = {
    "sr": "synonym replacement",
    "ri": "random insertion",
    "rs": "random swap",
    "rd": "random deletion",
}
# the reference code's stop words (NLTK's English list as of 2019, plus the empty string)
STOP_WORDS = frozenset(
    [
        "i",
        "me",
        "my",
        "myself",
        "we",
        "our",
        "ours",
        "ourselves",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "he",
        "him",
        "his",
        "himself",
        "she",
        "her",
        "hers",
        "herself",
        "it",
        "its",
        "itself",
        "they",
        "them",
        "their",
        "theirs",
        "themselves",
        "what",
        "which",
        "who",
        "whom",
        "this",
        "that",
        "these",
        "those",
        "am",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "having",
        "do",
        "does",
        "did",
        "doing",
        "a",
        "an",
        "the",
        "and",
        "but",
        "if",
        "or",
        "because",
        "as",
        "until",
        "while",
        "of",
        "at",
        "by",
        "for",
        "with",
        "about",
        "against",
        "between",
        "into",
        "through",
        "during",
        "before",
        "after",
        "above",
        "below",
        "to",
        "from",
        "up",
        "down",
        "in",
        "out",
        "on",
        "off",
        "over",
        "under",
        "again",
        "further",
        "then",
        "once",
        "here",
        "there",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "no",
        "nor",
        "not",
        "only",
        "own",
        "same",
        "so",
        "than",
        "too",
        "very",
        "s",
        "t",
        "can",
        "will",
        "just",
        "don",
        "should",
        "now",
    ]
)
_AFFIX = re.compile(r"^(\W*)(.*?)(\W*)$", re.S)


@dataclass
class EdaCounts:
    """What EDA did with a batch of texts (nothing is dropped silently).

    Attributes:
        texts: originals seen. empty: empty or blank texts (no new sentence made).
        one_word: texts of one word (RS cannot change them; RD keeps the word).
        no_synonyms: texts none of whose words WordNet knows (non-English, names, numbers):
            SR and RI leave them unchanged.
        unchanged: new sentences not made (short of ``n``) because a candidate equalled
            its original or another candidate (texts EDA can hardly change).
        new: new sentences made. by_operation: new sentences per operation.
    """

    texts: int = 0
    empty: int = 0
    one_word: int = 0
    no_synonyms: int = 0
    unchanged: int = 0
    new: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """The counts as a JSON-ready dict."""
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.__dict__.items()}


def check_eda_options(alpha: float, n: int, operations: Sequence[str]) -> tuple[str, ...]:
    """Validate EDA's options; returns the operations lower-cased.

    Raises:
        ReprlearnError: ``alpha`` outside (0, 1], ``n`` < 1, an unknown or empty operation
            list (the message lists sr, ri, rs, rd).
    """
    if not 0 < alpha <= 1:
        raise ReprlearnError(
            f"alpha {alpha}: EDA's alpha is the share of words changed, in (0, 1] "
            "(the paper's default 0.1)"
        )
    if n < 1:
        raise ReprlearnError(f"--n {n}: the number of new sentences per original must be >= 1")
    ops = tuple(op.strip().lower() for op in operations if op.strip())
    bad = [op for op in ops if op not in OPERATIONS]
    if bad or not ops:
        raise ReprlearnError(
            f"unknown EDA operation(s) {bad or list(operations)}: choose from "
            + ", ".join(f"{k} ({v})" for k, v in OPERATION_NAMES.items())
        )
    return ops


def _core(token: str) -> tuple[str, str, str]:
    """(leading punctuation, word, trailing punctuation) of a whitespace token."""
    m = _AFFIX.match(token)
    assert m is not None
    return m.group(1), m.group(2), m.group(3)


def _candidate(token: str) -> str | None:
    """The word of ``token`` when SR/RI may use it: a non-stop word of 2+ characters with
    synonyms."""
    word = _core(token)[1]  # one-letter cores ("'d", "u") are clitics, not words to replace
    if len(word) < 2 or word.lower() in STOP_WORDS or not synonyms(word):
        return None
    return word


def _cased(synonym: str, like: str) -> str:
    """``synonym`` capitalised like ``like`` (``Film`` -> ``Movie``, ``FILM`` -> ``MOVIE``)."""
    if like.isupper() and len(like) > 1:
        return synonym.upper()
    if like[:1].isupper():
        return synonym[:1].upper() + synonym[1:]
    return synonym


def synonym_replacement(words: list[str], n: int, rng: random.Random) -> list[str]:
    """SR: replace up to ``n`` distinct non-stop words that have WordNet synonyms (every
    occurrence of each) with one random synonym; other words are left as they are.

    Args:
        words: whitespace tokens. n: words to replace. rng: the seeded random source.
    Returns:
        the new tokens (a multi-word synonym stays one token, ``"motion picture"``).
    """
    cands = sorted({c.lower() for c in map(_candidate, words) if c})
    rng.shuffle(cands)
    chosen = {w: rng.choice(synonyms(w)) for w in cands[:n]}
    out = []
    for token in words:
        pre, word, post = _core(token)
        syn = chosen.get(word.lower())
        out.append(f"{pre}{_cased(syn, word)}{post}" if syn and word else token)
    return out


def random_insertion(words: list[str], n: int, rng: random.Random) -> list[str]:
    """RI: ``n`` times, insert a random synonym of a random non-stop word (one with
    synonyms) at a random position. Unchanged when no word has synonyms."""
    out = list(words)
    cands = [w for w in (_candidate(t) for t in words) if w]
    if not cands:
        return out
    for _ in range(n):
        word = rng.choice(cands)
        out.insert(rng.randint(0, len(out)), rng.choice(synonyms(word)))
    return out


def random_swap(words: list[str], n: int, rng: random.Random) -> list[str]:
    """RS: ``n`` times, swap two randomly chosen positions (the multiset of tokens is
    kept). Fewer than two tokens: unchanged."""
    out = list(words)
    if len(out) < 2:
        return out
    for _ in range(n):
        i, j = rng.sample(range(len(out)), 2)
        out[i], out[j] = out[j], out[i]
    return out


def random_deletion(words: list[str], p: float, rng: random.Random) -> list[str]:
    """RD: delete each token with probability ``p``; when all would go, keep one random
    token (so ``p = 1`` leaves exactly one word). One token: unchanged."""
    if len(words) <= 1:
        return list(words)
    kept = [w for w in words if rng.random() > p]
    return kept or [rng.choice(words)]


def eda_one(
    text: str,
    *,
    n: int = 4,
    alpha: float = 0.1,
    operations: Sequence[str] = OPERATIONS,
    rng: random.Random,
) -> list[tuple[str, str]]:
    """Up to ``n`` EDA variants of one ``text`` as ``(new_text, operation)`` pairs.

    As in the reference code, each chosen operation makes ``n // len(operations) + 1``
    candidates, which are shuffled and cut to ``n``; candidates equal to ``text`` (or to
    each other) are dropped, so a text EDA cannot change yields fewer than ``n``.
    """
    words = text.split()
    if not words:
        return []
    k = max(1, int(alpha * len(words)))
    per_op = n // len(operations) + 1
    made: list[tuple[str, str]] = []
    for op in operations:
        for _ in range(per_op):
            if op == "sr":
                new = synonym_replacement(words, k, rng)
            elif op == "ri":
                new = random_insertion(words, k, rng)
            elif op == "rs":
                new = random_swap(words, k, rng)
            else:
                new = random_deletion(words, alpha, rng)
            made.append((" ".join(new), op))
    rng.shuffle(made)
    seen = {" ".join(words)}
    out = []
    for new_text, op in made:
        if new_text not in seen:
            seen.add(new_text)
            out.append((new_text, op))
    return out[:n]


def eda(
    texts: Sequence[str],
    *,
    n: int = 4,
    alpha: float = 0.1,
    operations: Sequence[str] = OPERATIONS,
    seed: int = 0,
) -> tuple[list[tuple[int, str, str]], EdaCounts]:
    """EDA (Wei & Zou 2019) over ``texts``: up to ``n`` new sentences per text.

    Args:
        texts: the originals (any language; empty ones are kept by the caller and counted).
        n: new sentences per original (paper: 16 for < 500 sentences ... 4 for > 5,000;
            default 4).
        alpha: share of words changed by SR/RI/RS and RD's deletion probability (default
            0.1, the paper's choice).
        operations: any of ``sr``, ``ri``, ``rs``, ``rd`` (each selectable alone).
        seed: text ``i`` draws from ``random.Random(f"{seed}:{i}")``, so the same seed gives
            the same sentences whatever the batch.
    Returns:
        ``[(source_index, new_text, operation), ...]`` and the :class:`EdaCounts`.
    Raises:
        ReprlearnError: bad ``alpha``/``n``/``operations`` (:func:`check_eda_options`);
            WordNet not installed (SR/RI).
    """
    ops = check_eda_options(alpha, n, operations)
    counts = EdaCounts(by_operation={op: 0 for op in ops})
    rows: list[tuple[int, str, str]] = []
    for i, text in enumerate(texts):
        counts.texts += 1
        text = text or ""
        words = text.split()
        if not words:
            counts.empty += 1
            continue
        if len(words) == 1:
            counts.one_word += 1
        if ("sr" in ops or "ri" in ops) and not any(_candidate(w) for w in words):
            counts.no_synonyms += 1
        new = eda_one(text, n=n, alpha=alpha, operations=ops, rng=random.Random(f"{seed}:{i}"))
        counts.unchanged += n - len(new)
        for new_text, op in new:
            rows.append((i, new_text, op))
            counts.by_operation[op] += 1
    counts.new = len(rows)
    return rows, counts
