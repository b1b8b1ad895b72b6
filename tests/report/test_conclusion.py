"""The conclusion's tie claims come from McNemar's exact test on the same test items."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from reprlearn.evaluation.paired import mcnemar_exact
from reprlearn.evaluation.statistics import accuracy_with_ci
from reprlearn.report.conclusion import conclusion


def _correct(both: int, only: int, other_only: int, neither: int) -> np.ndarray:
    """Per-item correctness of one encoder, in the item order of :func:`_pair`."""
    return np.array([1] * both + [1] * only + [0] * other_only + [0] * neither, dtype=bool)


def _pair(both: int, only_a: int, only_b: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    a = _correct(both, only_a, only_b, neither)
    b = np.array([1] * both + [0] * only_a + [1] * only_b + [0] * neither, dtype=bool)
    return a, b


def _report(name: str, correct: np.ndarray) -> SimpleNamespace:
    score = accuracy_with_ci(correct, np.ones_like(correct))  # accuracy of a 0/1 vector
    acc = {"value": score.value, "ci_low": score.ci_low, "ci_high": score.ci_high}
    return SimpleNamespace(
        encoder=name,
        linear={"accuracy": acc},
        knn={"accuracy": {"value": score.value}},
        label_efficiency={"budgets": ["all"], "accuracy": [{"value": score.value}]},
        geometry={"status": "healthy"},
        test_correct=correct,
        test_ids=np.arange(len(correct)),
    )


def test_clear_winner_with_overlapping_intervals_is_not_called_a_tie():
    # the case: 35.5 % vs 27.5 % on the same 400 test items
    a, b = _pair(both=90, only_a=52, only_b=20, neither=238)
    assert a.mean() == 0.355 and b.mean() == 0.275
    first, second = _report("pca:16", a), _report("pixels", b)
    assert second.linear["accuracy"]["ci_high"] >= first.linear["accuracy"]["ci_low"]  # overlap
    text = conclusion([first, second], ["all"])
    assert "tied" not in text
    assert "pixels follows with 27.5%; the difference is significant" in text
    assert "McNemar's exact test on the same 400 test items: 52 vs 20" in text


def test_real_tie_is_called_a_tie_and_names_the_test():
    a, b = _pair(both=300, only_a=20, only_b=18, neither=62)
    assert a.mean() == 0.8 and b.mean() == 0.795
    text = conclusion([_report("minilm", a), _report("tfidf", b)], ["all"])
    assert "tfidf (79.5%) is not significantly different" in text
    assert "McNemar's exact test" in text and "treat the top two as tied" in text


def test_pairs_items_by_id_when_the_test_items_differ():
    a, b = _pair(both=90, only_a=52, only_b=20, neither=238)
    first, second = _report("a", a), _report("b", b)
    order = np.random.default_rng(0).permutation(len(b))  # same items, another order
    second.test_correct, second.test_ids = b[order], np.arange(len(b))[order]
    assert "the difference is significant" in conclusion([first, second], ["all"])


def test_mcnemar_exact_p_values():
    a, b = _pair(both=90, only_a=52, only_b=20, neither=238)
    test = mcnemar_exact(a, b)
    assert (test.only_first, test.only_second, test.n) == (52, 20, 400)
    # binomial two-sided p of 20 or fewer (or 52 or more) heads in 72 fair flips
    assert test.p_value == pytest.approx(0.000217, rel=0.05) and test.significant
    assert mcnemar_exact(a, a).p_value == 1.0 and not mcnemar_exact(a, a).significant
    with pytest.raises(ValueError, match="same test items"):
        mcnemar_exact(a, b[:10])
