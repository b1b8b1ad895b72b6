"""The quality gate of ``--precision int8``: a quantised model is used only when it
measures close enough to the fp32 model on the user's own texts.

Two measurements on up to :data:`CHECK_TEXTS` texts of the data being embedded:

* **mean cosine to fp32**: row-wise cosine between the int8 and the fp32 (PyTorch)
  embeddings of the same text; must be >= :data:`MIN_MEAN_COSINE` (0.99, issue 16);
* **pair-similarity Spearman to fp32 (x100)**: the cosine of every pair of those texts
  under int8, rank-correlated with the same pairs' cosine under fp32. This stands in for
  "STS within 0.5 points": an STS benchmark scores a model by the Spearman of its pair
  cosines with human gold scores, and no STS set with gold scores is available offline
  (none ships on PyPI; ``../shared/data`` has none), so the gate asks that int8 ranks
  pairs as fp32 does, to within :data:`MAX_SPEARMAN_LOSS` (0.5) points of a perfect 100.

Source: the thresholds of issue 16; STS as in MTEB's ``STSEvaluator`` (Spearman x100).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import spearmanr

from reprlearn.errors import ReprlearnError

MIN_MEAN_COSINE = 0.99
MAX_SPEARMAN_LOSS = 0.5
CHECK_TEXTS = 128


class Int8QualityError(ReprlearnError, ValueError):
    """An int8 model that measured too far from fp32 on the user's texts."""


@dataclass
class Int8Quality:
    """The measured gate: cosines to fp32 and the pair-similarity Spearman x100."""

    mean_cosine: float
    min_cosine: float
    pair_spearman: float | None
    n_texts: int
    n_pairs: int

    @property
    def passed(self) -> bool:
        spearman_ok = self.pair_spearman is None or self.pair_spearman >= 100 - MAX_SPEARMAN_LOSS
        return self.mean_cosine >= MIN_MEAN_COSINE and spearman_ok

    def to_dict(self) -> dict:
        thresholds = {"mean_cosine": MIN_MEAN_COSINE, "pair_spearman": 100 - MAX_SPEARMAN_LOSS}
        return {**asdict(self), "passed": self.passed, "thresholds": thresholds}


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def int8_quality(int8: np.ndarray, fp32: np.ndarray) -> Int8Quality:
    """Measure ``int8`` ``(n, dim)`` embeddings against ``fp32`` ``(n, dim)`` ones of the
    same ``n`` texts. The pair Spearman is None below 3 texts (fewer than 3 pairs) or when
    fp32 gives every pair the same cosine (undefined); the cosine gate still applies."""
    a, b = _unit(int8), _unit(fp32)
    cos = (a * b).sum(1)
    n = len(cos)
    iu = np.triu_indices(n, k=1)
    pa, pb = (a @ a.T)[iu], (b @ b.T)[iu]
    spearman = None
    if len(pb) >= 3 and np.ptp(pb) > 0 and np.ptp(pa) > 0:
        spearman = round(float(spearmanr(pa, pb).statistic) * 100, 3)
    return Int8Quality(
        mean_cosine=round(float(cos.mean()), 6),
        min_cosine=round(float(cos.min()), 6),
        pair_spearman=spearman,
        n_texts=n,
        n_pairs=len(pb),
    )


def check_int8(int8: np.ndarray, fp32: np.ndarray, what: str) -> Int8Quality:
    """:func:`int8_quality`, raising when the gate fails.

    Raises:
        Int8QualityError: mean cosine to fp32 < 0.99 or pair Spearman < 99.5 (names
            ``what``, the measured numbers and the fix).
    """
    q = int8_quality(int8, fp32)
    if not q.passed:
        raise Int8QualityError(
            f"--precision int8 ({what}): measured on {q.n_texts} of your texts, mean cosine "
            f"to fp32 {q.mean_cosine:.4f} (needs >= {MIN_MEAN_COSINE}), pair-similarity "
            f"Spearman to fp32 {q.pair_spearman} (needs >= {100 - MAX_SPEARMAN_LOSS}): too "
            "far from fp32 for this model; use --precision fp32 or auto, or the other int8 "
            "backend (--backend onnx|openvino)"
        )
    return q
