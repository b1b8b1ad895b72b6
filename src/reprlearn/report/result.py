"""What ``compare`` measured: one :class:`EncoderReport` per encoder and the ranked
:class:`CompareResult` (terminal table, plain text, JSON-able dict)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.markup import escape
from rich.table import Table

from reprlearn.evaluation.result import plain_text

RANK_NAMES = {
    "linear": "linear-probe accuracy",
    "knn": "kNN accuracy",
    "mteb": "MTEB classification accuracy",
}
MISSING = "—"  # a protocol that was not run (--protocols)


@dataclass
class EncoderReport:
    """Everything measured for one encoder (accuracies in [0, 1]); a protocol left out
    with ``--protocols`` is None.

    Attributes:
        rank_by: the protocol whose accuracy ranks the encoders (linear, knn or mteb).
        seconds: wall time per stage (``embed``, ``inspect``, ``linear``, ...), seconds.
        test_correct, test_ids: per-item linear-probe correctness ``(n_test,)`` and the
            test items' source row ids, for the paired test of the conclusion (not
            written to JSON).
    """

    encoder: str
    dim: int
    items_per_s: float | None
    linear: dict[str, Any] | None
    knn: dict[str, Any] | None
    kmeans: dict[str, Any] | None
    mteb: dict[str, Any] | None
    logme: float | None
    geometry: dict[str, Any]
    neighbor_agreement: float
    neighbor_examples: list[dict[str, str]]
    label_efficiency: dict[str, Any] | None
    files: dict[str, str]
    rank_by: str = "linear"
    seconds: dict[str, float] = field(default_factory=dict)
    measured_on: dict[str, str] = field(default_factory=dict)
    test_correct: np.ndarray | None = field(default=None, repr=False)
    test_ids: np.ndarray | None = field(default=None, repr=False)

    @property
    def rank_score(self) -> dict[str, Any]:
        """The score dict (``value``, ``ci_low``, ``ci_high`` or ``std``) that ranks."""
        return getattr(self, self.rank_by)["accuracy"]

    @property
    def accuracy(self) -> float:
        return float(self.rank_score["value"])

    def row(self, budgets: Sequence[int | str] = ()) -> dict[str, Any]:
        """Flat fields for the ranking table, results.csv and the HTML page (None or
        "—" for protocols not run)."""
        lin = self.linear["accuracy"] if self.linear else None
        knn = self.knn["accuracy"] if self.knn else None
        le = self.label_efficiency
        return {
            "encoder": self.encoder,
            "dim": self.dim,
            "linear_acc": lin["value"] if lin else None,
            "linear_ci_low": lin["ci_low"] if lin else None,
            "linear_ci_high": lin["ci_high"] if lin else None,
            "linear_text": _pm(lin),
            "knn_acc": knn["value"] if knn else None,
            "knn_text": _pm(knn),
            "nmi": self.kmeans["nmi"]["value"] if self.kmeans else None,
            "ari": self.kmeans["ari"]["value"] if self.kmeans else None,
            "mteb_acc": self.mteb["accuracy"]["value"] if self.mteb else None,
            "logme": self.logme,
            "effective_rank": self.geometry["effective_rank"],
            "geometry_status": self.geometry["status"],
            "verdict": self.geometry["verdict"],
            "neighbor_agreement": self.neighbor_agreement,
            "neighbor_examples": self.neighbor_examples,
            "items_per_s": self.items_per_s,
            "embed_seconds": round(sum(v for k, v in self.seconds.items() if _embedding(k)), 3),
            "eval_seconds": round(sum(v for k, v in self.seconds.items() if not _embedding(k)), 3),
            "label_efficiency_text": [
                f"{100 * a['value']:.1f} ± {100 * (a['std'] or 0):.1f}" for a in le["accuracy"]
            ]
            if le
            else [],
            "files": self.files,
        }


def _embedding(stage: str) -> bool:
    return stage.startswith("embed")


def _pm(score: dict[str, Any] | None) -> str:
    """``"95.3 ± 1.1"`` (percent) from a Score dict with a bootstrap interval or a std."""
    if score is None:
        return MISSING
    value = 100 * score["value"]
    if score.get("std") is not None:
        return f"{value:.1f} ± {100 * score['std']:.1f}"
    half = 100 * (score["ci_high"] - score["ci_low"]) / 2
    return f"{value:.1f} ± {half:.1f}"


def _num(value: float | None, spec: str) -> str:
    return MISSING if value is None else format(value, spec)


def details(r: EncoderReport) -> dict[str, Any]:
    """Per-protocol results of one encoder for ``results.json``."""
    return {
        "linear": r.linear,
        "knn": r.knn,
        "kmeans": r.kmeans,
        "mteb": r.mteb,
        "logme": r.logme,
        "geometry": r.geometry,
        "label_efficiency": r.label_efficiency,
        "measured_on": r.measured_on,
        "seconds": r.seconds,
    }


@dataclass
class CompareResult:
    """The comparison: per-encoder reports ranked best first, and the conclusion.

    ``test`` is the held-out source the probes scored (None: a stratified 80/20 split of
    ``source``); ``n_test`` its items. ``notes`` are things the user should know (label
    budgets a class could not fill, ...). ``stage_seconds``: ``{encoder: {stage: s}}``.
    """

    source: str
    n_items: int
    n_classes: int
    budgets: list[int | str]
    ranking: list[EncoderReport]
    conclusion: str
    out: str
    seconds: float
    files: dict[str, str] = field(default_factory=dict)
    test: str | None = None
    n_test: int | None = None
    protocols: list[str] = field(default_factory=list)
    protocol_note: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from reprlearn import __version__

        return {
            "source": self.source,
            "test": self.test,
            "n_items": self.n_items,
            "n_test": self.n_test,
            "n_classes": self.n_classes,
            "protocols": self.protocols,
            "rank_by": self.ranking[0].rank_by if self.ranking else None,
            "budgets": self.budgets,
            "conclusion": self.conclusion,
            "notes": self.notes,
            "ranking": [r.row(self.budgets) for r in self.ranking],
            "details": {r.encoder: details(r) for r in self.ranking},
            "stage_seconds": {r.encoder: r.seconds for r in self.ranking},
            "protocol_note": self.protocol_note,
            "files": self.files,
            "seconds": round(self.seconds, 2),
            "out": self.out,
            "version": __version__,
        }

    def table(self) -> Table:
        """The ranking as a rich table."""
        where = f" -> {self.test} ({self.n_test} test items)" if self.test else ""
        table = Table(
            title=escape(
                f"compare: {self.source}{where} ({self.n_items} items, {self.n_classes} classes)"
            ),
            caption=escape(self.protocol_note) or None,
        )
        for col in ("#", "encoder", "dim", "linear acc", "kNN acc", "NMI", "eff. rank",
                    "LogME", "items/s", "eval s"):  # fmt: skip
            if col == "encoder":  # names like ckpt:runs/simclr wrap rather than get cut
                table.add_column(col, overflow="fold", min_width=12)
            else:
                table.add_column(col, justify="right")
        for i, r in enumerate(self.ranking):
            row = r.row(self.budgets)
            table.add_row(
                str(i + 1),
                escape(r.encoder),
                str(r.dim),
                row["linear_text"],
                row["knn_text"],
                _num(row["nmi"], ".3f"),
                f"{row['effective_rank']:.1f}",
                _num(r.logme, ".3f"),
                f"{r.items_per_s:,.0f}" if r.items_per_s else "cached",
                f"{row['eval_seconds']:,.1f}",
                style="bold green" if i == 0 else None,
            )
        return table

    def __str__(self) -> str:
        """The ranking table, the notes and the conclusion as plain text
        (``print(reprlearn.compare(...))``)."""
        parts = [plain_text(self.table()), *self.notes, f"Conclusion. {self.conclusion}"]
        return "\n".join(parts)
