"""Semantic textual similarity (STS): correlation of cosine similarity with gold scores.

Protocol of MTEB's ``STSEvaluator`` (embeddings-benchmark/mteb
``mteb/evaluation/evaluators/STSEvaluator.py``): embed both sentences of each pair, score
each pair by the cosine similarity of its embeddings, report Spearman's rank correlation
(MTEB's main score) and Pearson's correlation with the gold scores
(``scipy.stats.spearmanr`` / ``pearsonr``), both multiplied by 100 as MTEB's leaderboard
shows them. A 95% percentile bootstrap interval over pairs (1000 resamples) gives the spread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import pearsonr, spearmanr

from reprlearn.errors import DataError
from reprlearn.evaluation.knn import l2_normalize
from reprlearn.evaluation.result import ResultMixin
from reprlearn.evaluation.statistics import Score, bootstrap_ci


@dataclass
class STSResult(ResultMixin):
    """Spearman and Pearson correlations x100 (MTEB's scale) with 95% bootstrap intervals."""

    spearman: Score
    pearson: Score
    n_pairs: int
    encoder: str = ""
    seconds: float = 0.0
    title = "STS (cosine similarity vs gold, x100)"

    def rows(self) -> list[tuple[str, str]]:
        rows = [("Spearman x100", str(self.spearman)), ("Pearson x100", str(self.pearson))]
        rows.append(("pairs", str(self.n_pairs)))
        if self.encoder:
            rows.append(("encoder", self.encoder))
        return rows


def paired_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of row i of ``a`` with row i of ``b``; both ``(n, dim)`` -> ``(n,)``."""
    return (l2_normalize(a) * l2_normalize(b)).sum(1)


def sts_scores(
    emb1: np.ndarray, emb2: np.ndarray, gold: np.ndarray, *, seed: int = 0, n_resamples: int = 1000
) -> STSResult:
    """Spearman/Pearson (x100) between ``paired_cosine(emb1, emb2)`` and ``gold`` ``(n,)``.

    Raises:
        ValueError: mismatched lengths or fewer than 3 pairs.
        DataError: constant gold scores, or an encoder that gives every pair the same
            cosine: a correlation with a constant is undefined (never reported as NaN).
    """
    gold = np.asarray(gold, dtype=np.float64)
    if not len(emb1) == len(emb2) == len(gold):
        raise ValueError(f"lengths differ: {len(emb1)}, {len(emb2)} embeddings, {len(gold)} scores")
    if len(gold) < 3:
        raise ValueError("STS needs at least 3 pairs")
    if np.ptp(gold) == 0:
        raise DataError(
            f"all {len(gold)} gold scores are {gold[0]:g}: the correlation with a constant is "
            "undefined; STS needs pairs with different gold scores (check --score-column)"
        )
    cos = paired_cosine(emb1, emb2).astype(np.float64)
    if np.ptp(cos) == 0:
        raise DataError(
            f"the encoder gives all {len(gold)} pairs the same cosine similarity ({cos[0]:.3g}):"
            " the correlation is undefined; the encoder does not tell these sentences apart"
        )
    pairs = np.stack([cos, gold], axis=1)

    def spear(p: np.ndarray) -> float:
        return 100 * float(spearmanr(p[:, 0], p[:, 1]).statistic)

    def pear(p: np.ndarray) -> float:
        return 100 * float(pearsonr(p[:, 0], p[:, 1]).statistic)

    out = []
    for stat in (spear, pear):
        low, high = bootstrap_ci(pairs, stat, n_resamples=n_resamples, seed=seed)
        out.append(Score(value=stat(pairs), ci_low=low, ci_high=high, n=len(gold)))
    return STSResult(spearman=out[0], pearson=out[1], n_pairs=len(gold))


def read_pairs(
    path: str | Path,
    sentence1_column: str = "sentence1",
    sentence2_column: str = "sentence2",
    score_column: str = "score",
) -> pd.DataFrame:
    """Read a CSV, TSV (``.tsv``/``.tab``) or JSONL (``.jsonl``/``.json`` lines) file of pairs.

    Returns:
        A DataFrame with columns ``sentence1``, ``sentence2`` (str), ``score`` (float).

    Raises:
        DataError: missing file, unreadable table, a missing column (lists the existing
            ones and the option to pass), an empty sentence or a non-numeric/empty score
            (names the row).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{path}: no such file (expected a CSV, TSV or JSONL file of sentence pairs)"
        )
    try:
        frame = _read_table(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise DataError(f"{path}: cannot read it as {path.suffix or 'CSV'} ({e})") from None
    wanted = {
        "--sentence1-column": sentence1_column,
        "--sentence2-column": sentence2_column,
        "--score-column": score_column,
    }
    for option, column in wanted.items():
        if column not in frame.columns:
            raise DataError(
                f"{path}: no column {column!r}; the columns are {list(map(str, frame.columns))}. "
                f"Name the right one with {option}"
            )
    for option, column in list(wanted.items())[:2]:
        text = frame[column].fillna("").astype(str).str.strip()
        empty = np.flatnonzero((text == "").to_numpy())
        if len(empty):
            raise DataError(
                f"{path}: row {int(empty[0]) + 1} (of the data, after the header) has an empty "
                f"text in column {column!r} ({option}); {len(empty)} row(s) like it: fill or "
                "drop them"
            )
    scores = pd.to_numeric(frame[score_column], errors="coerce")
    bad = np.flatnonzero(scores.isna().to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{path}: row {row + 1} (of the data, after the header) has score "
            f"{frame[score_column].iloc[row]!r}, not a number; fix or drop that row"
        )
    return pd.DataFrame(
        {
            "sentence1": frame[sentence1_column].fillna("").astype(str),
            "sentence2": frame[sentence2_column].fillna("").astype(str),
            "score": scores.astype(np.float64),
        }
    )


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return pd.read_json(path, lines=True)
    if suffix in (".tsv", ".tab"):
        return pd.read_csv(path, sep="\t", quoting=3, keep_default_na=False, na_values=[""])
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def sts(
    pairs_path: str | Path,
    encoder_name: str,
    sentence1_column: str = "sentence1",
    sentence2_column: str = "sentence2",
    score_column: str = "score",
    *,
    batch_size: int | None = None,
    device: str = "auto",
    precision: str = "auto",
    seed: int = 0,
    **encoder_options: Any,
) -> STSResult:
    """Evaluate ``encoder_name`` on the STS pairs in ``pairs_path`` (see module doc).

    Both sides are embedded in one call of :func:`reprlearn.embed.encode_items` (an encoder
    that needs fitting, e.g. ``tfidf``, is fitted on all sentences of the file).

    Raises:
        DataError: see :func:`read_pairs` and :func:`sts_scores`; ``batch_size < 1``.
        ValueError/ImportError: unknown encoder.
    """
    from reprlearn.embed import encode_items
    from reprlearn.encoders.registry import load_encoder

    if batch_size is not None and (isinstance(batch_size, bool) or batch_size < 1):
        raise DataError(f"--batch-size {batch_size}: use a positive number of items per batch")
    frame = read_pairs(pairs_path, sentence1_column, sentence2_column, score_column)
    start = time.perf_counter()
    encoder = load_encoder(encoder_name, **encoder_options)
    texts = frame["sentence1"].tolist() + frame["sentence2"].tolist()
    emb = encode_items(encoder, texts, batch_size=batch_size, device=device, precision=precision)
    n = len(frame)
    result = sts_scores(emb[:n], emb[n:], frame["score"].to_numpy(), seed=seed)
    result.encoder = encoder_name
    result.seconds = time.perf_counter() - start
    return result
