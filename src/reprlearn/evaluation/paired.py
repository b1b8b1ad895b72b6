"""Paired comparison of two classifiers scored on the same test items: McNemar's exact test.

Two encoders probed on the same test items are compared on the items where they
disagree: ``b`` = items only the first gets right, ``c`` = items only the second gets
right. Under the null hypothesis of equal accuracy each disagreement is a fair coin, so
the exact two-sided p-value is that of a binomial test of ``b`` successes in ``b + c``
trials with p = 1/2 (``scipy.stats.binomtest``). Source: McNemar (1947), "Note on the
sampling error of the difference between correlated proportions or percentages",
Psychometrika 12; exact form as recommended by Dietterich (1998), "Approximate
statistical tests for comparing supervised classification learning algorithms".

Overlapping marginal 95% intervals say nothing about a paired difference (both
accuracies vary with the same test items), so reprlearn's tie claims come from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

from reprlearn.evaluation.result import ResultMixin

TEST_NAME = "McNemar's exact test"


@dataclass
class PairedComparison(ResultMixin):
    """McNemar's exact test of two classifiers on the same ``n`` test items.

    Attributes:
        n: paired test items. only_first, only_second: discordant items (first right and
            second wrong; the reverse). difference: accuracy of first minus second, in
            [-1, 1]. p_value: exact two-sided p-value. alpha: the significance level.
    """

    n: int
    only_first: int
    only_second: int
    difference: float
    p_value: float
    alpha: float = 0.05
    title = TEST_NAME

    @property
    def significant(self) -> bool:
        """True when the accuracies differ at level ``alpha`` (``p_value < alpha``)."""
        return self.p_value < self.alpha

    def describe(self) -> str:
        """``"McNemar's exact test on the same 400 test items: 52 vs 20 discordant, p = 0.0002"``."""
        p = f"{self.p_value:.2g}" if self.p_value >= 1e-4 else "< 0.0001"
        p = p if p.startswith("<") else f"= {p}"
        return (
            f"{TEST_NAME} on the same {self.n} test items: {self.only_first} vs "
            f"{self.only_second} items only one of them gets right, p {p}"
        )


def mcnemar_exact(
    correct_first: np.ndarray, correct_second: np.ndarray, *, alpha: float = 0.05
) -> PairedComparison:
    """McNemar's exact test of two per-item correctness vectors on the same test items.

    Args:
        correct_first, correct_second: bool/0-1 ``(n,)``, item i of both is the same test item.
        alpha: significance level of :attr:`PairedComparison.significant` (default 0.05).

    Returns:
        :class:`PairedComparison` (p-value 1.0 when the two never disagree).

    Raises:
        ValueError: different lengths or no items.
    """
    a = np.asarray(correct_first, dtype=bool)
    b = np.asarray(correct_second, dtype=bool)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError(
            f"McNemar's test needs two (n,) correctness vectors of the same test items, got "
            f"shapes {a.shape} and {b.shape}"
        )
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    discordant = only_a + only_b
    p = 1.0 if discordant == 0 else float(binomtest(only_a, discordant, 0.5).pvalue)
    return PairedComparison(
        n=len(a),
        only_first=only_a,
        only_second=only_b,
        difference=float(a.mean() - b.mean()),
        p_value=min(p, 1.0),
        alpha=alpha,
    )
