"""The plain-words conclusion of a comparison, derived from its numbers.

Whether the top two encoders are tied comes from a paired test on the same test items
(McNemar's exact test, :mod:`reprlearn.evaluation.paired`), never from overlapping
marginal intervals: two accuracies measured on the same items can differ clearly while
their separate 95% intervals overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from reprlearn.evaluation.paired import PairedComparison, mcnemar_exact


def paired_comparison(first: Any, second: Any) -> PairedComparison | None:
    """McNemar's exact test of two reports' linear probes on the test items they share.

    Reports carry ``test_correct`` (bool ``(n,)``) and ``test_ids`` (source row ids
    ``(n,)``, or None when both score the same items in the same order). Returns None
    when a report lacks per-item results or they share no item.
    """
    a, b = getattr(first, "test_correct", None), getattr(second, "test_correct", None)
    if a is None or b is None:
        return None
    ia, ib = getattr(first, "test_ids", None), getattr(second, "test_ids", None)
    if ia is not None and ib is not None:
        common, pa, pb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
        if len(common) == 0:
            return None
        a, b = np.asarray(a)[pa], np.asarray(b)[pb]
    elif len(a) != len(b):
        return None
    return mcnemar_exact(a, b)


_RANK_NAMES = {"linear": "linear-probe", "knn": "kNN", "mteb": "MTEB classification"}


def _score(report: Any) -> dict[str, Any]:
    """The accuracy dict that ranks ``report`` (linear probe unless ``rank_by`` says)."""
    return getattr(report, getattr(report, "rank_by", "linear"))["accuracy"]


def _full(report: Any) -> float | None:
    le = report.label_efficiency
    if not le:
        return None
    for budget, acc in zip(le["budgets"], le["accuracy"], strict=True):
        if budget == "all":
            return float(acc["value"])
    return None


def _reaches(report: Any, target: float) -> int | None:
    """The smallest labels-per-class budget at which ``report`` averages >= ``target``."""
    le = report.label_efficiency or {"budgets": [], "accuracy": []}
    for budget, acc in zip(le["budgets"], le["accuracy"], strict=True):
        if budget != "all" and acc["value"] >= target:
            return int(budget)
    return None


def conclusion(reports: Sequence[Any], budgets: Sequence[int | str]) -> str:
    """Sentences a person can act on: who wins, by how much, with how few labels, and
    which spaces look unhealthy. ``reports`` are ranked best first."""
    best = reports[0]
    rank_by = getattr(best, "rank_by", "linear")
    lin = _score(best)
    knn = (
        f" (kNN {100 * best.knn['accuracy']['value']:.1f}%)"
        if rank_by != "knn" and best.knn
        else ""
    )
    parts = [
        f"{best.encoder} ranks first with {100 * lin['value']:.1f}% {_RANK_NAMES[rank_by]} "
        f"accuracy{knn}."
    ]
    if len(reports) > 1:
        second = reports[1]
        s_lin = _score(second)
        test = paired_comparison(best, second) if rank_by == "linear" else None
        if test is None:
            parts.append(
                f"{second.encoder} follows with {100 * s_lin['value']:.1f}% (no paired "
                "per-item results to test the difference)."
            )
        elif test.significant:
            parts.append(
                f"{second.encoder} follows with {100 * s_lin['value']:.1f}%; the difference is "
                f"significant ({test.describe()})."
            )
        else:
            parts.append(
                f"{second.encoder} ({100 * s_lin['value']:.1f}%) is not significantly different "
                f"({test.describe()}): treat the top two as tied on this data."
            )
        for other in reports[1:]:  # the strongest encoder whose full-data score it reaches
            target = _full(other)
            if target is None:
                continue
            budget = _reaches(best, target)
            if budget is not None:
                parts.append(
                    f"{best.encoder} reaches {other.encoder}'s full-data accuracy "
                    f"({100 * target:.1f}%) with {budget} label{'s' if budget > 1 else ''} per class."
                )
                break
    smallest = next((b for b in budgets if b != "all"), None)
    if smallest is not None and _full(best) and best.label_efficiency["budgets"][0] != "all":
        few = best.label_efficiency["accuracy"][0]["value"]
        parts.append(
            f"With {smallest} label{'s' if smallest != 1 else ''} per class it keeps "
            f"{100 * few / _full(best):.0f}% of its full-data accuracy."
        )
    unhealthy = [r for r in reports if r.geometry.get("status") not in ("healthy", None)]
    for r in unhealthy:
        parts.append(f"{r.encoder}: {r.geometry['verdict']}.")
    return " ".join(parts)
