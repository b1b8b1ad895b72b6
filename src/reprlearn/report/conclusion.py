"""The plain-words conclusion of a comparison, derived from its numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _full(report: Any) -> float | None:
    le = report.label_efficiency
    for budget, acc in zip(le["budgets"], le["accuracy"], strict=True):
        if budget == "all":
            return float(acc["value"])
    return None


def _reaches(report: Any, target: float) -> int | None:
    """The smallest labels-per-class budget at which ``report`` averages >= ``target``."""
    le = report.label_efficiency
    for budget, acc in zip(le["budgets"], le["accuracy"], strict=True):
        if budget != "all" and acc["value"] >= target:
            return int(budget)
    return None


def conclusion(reports: Sequence[Any], budgets: Sequence[int | str]) -> str:
    """Sentences a person can act on: who wins, by how much, with how few labels, and
    which spaces look unhealthy. ``reports`` are ranked best first."""
    best = reports[0]
    lin = best.linear["accuracy"]
    parts = [
        f"{best.encoder} ranks first with {100 * lin['value']:.1f}% linear-probe accuracy "
        f"(kNN {100 * best.knn['accuracy']['value']:.1f}%)."
    ]
    if len(reports) > 1:
        second = reports[1]
        s_lin = second.linear["accuracy"]
        if s_lin["ci_high"] is not None and s_lin["ci_high"] >= lin["ci_low"]:
            parts.append(
                f"{second.encoder} ({100 * s_lin['value']:.1f}%) is within its 95% interval: "
                "treat the top two as tied on this data."
            )
        else:
            parts.append(f"{second.encoder} follows with {100 * s_lin['value']:.1f}%.")
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
    if smallest is not None and _full(best):
        few = best.label_efficiency["accuracy"][0]["value"]
        parts.append(
            f"With {smallest} label{'s' if smallest != 1 else ''} per class it keeps "
            f"{100 * few / _full(best):.0f}% of its full-data accuracy."
        )
    unhealthy = [r for r in reports if r.geometry.get("status") not in ("healthy", None)]
    for r in unhealthy:
        parts.append(f"{r.encoder}: {r.geometry['verdict']}.")
    return " ".join(parts)
