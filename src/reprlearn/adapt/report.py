"""Comparing strategies: each strategy x label budget -> ``report.html``, ``results.json``,
``results.csv`` (accuracy ± CI, OOD accuracy, trainable parameters, wall time, peak
memory, feature distortion as linear CKA, learning curves) and a conclusion in words.

Every run shares the test split (seeded) and, for ``freeze``/``lp-ft``, one feature cache
(``OUT/features``), so ``freeze`` pays for the backbone once.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reprlearn.adapt.finetune import FinetuneResult, finetune
from reprlearn.evaluation.paired import mcnemar_exact
from reprlearn.evaluation.result import ResultMixin
from reprlearn.outdir import prepare_out_dir, write_json_atomic, writer_lock
from reprlearn.tables import write_csv

MEMORY_NOTE = {
    "freeze": "features cached once; no backbone activations or gradients kept",
    "partial": "activations of all blocks, gradients of the top blocks",
    "full": "activations and gradients of the whole backbone + AdamW state",
    "lp-ft": "as full (second stage)",
}


@dataclass
class StrategyReport(ResultMixin):
    """``results``: one dict per strategy x budget (see :func:`row`); ``conclusion``: words."""

    out: Path
    results: list[dict[str, Any]]
    conclusion: str
    title = "finetune strategies"


def budget_name(budget: int | None) -> str:
    return "all" if budget is None else str(budget)


def row(r: FinetuneResult, ood: Any = None) -> dict[str, Any]:
    """The flat facts of one run for the tables (accuracies as fractions)."""
    return {
        "strategy": r.strategy, "labels_per_class": budget_name(r.labels_per_class),
        "accuracy": r.accuracy.value, "ci_low": r.accuracy.ci_low, "ci_high": r.accuracy.ci_high,
        "macro_f1": r.macro_f1.value, "ood_accuracy": None if ood is None else ood.value,
        "trainable_params": r.trainable_params, "total_params": r.total_params,
        "seconds": round(r.seconds, 2), "peak_memory_mb": round(r.peak_memory_mb, 1),
        "memory_device": r.memory_device, "memory_note": MEMORY_NOTE[r.strategy],
        "feature_cka": r.feature_cka, "n_train": r.n_train, "best_epoch": r.best_epoch,
        "energy_inside": (r.attention or {}).get("energy_inside"),
        "attention_flag": (r.attention or {}).get("flag"), "run": str(r.out),
    }  # fmt: skip


def conclude(rows: list[dict[str, Any]], correct: Sequence[Any] | None = None) -> str:
    """A conclusion in words from the numbers: the best strategy per budget, whether its
    lead is significant, its cost against ``freeze``, and feature distortion.

    Args:
        rows: :func:`row` of each run.
        correct: per run (same order as ``rows``), bool ``(n_test,)`` of which test items
            it got right. Every run of a budget is scored on the same test items, so the
            lead is judged by McNemar's exact test on those items
            (:mod:`reprlearn.evaluation.paired`); without them, by the 95% intervals.
    """
    lines = []
    for budget in dict.fromkeys(r["labels_per_class"] for r in rows):
        group = [i for i, r in enumerate(rows) if r["labels_per_class"] == budget]
        b = max(group, key=lambda i: rows[i]["accuracy"])
        best = rows[b]
        text = (f"With {budget} labels per class, {best['strategy']} is best "
                f"({best['accuracy']:.1%} [{best['ci_low']:.1%}, {best['ci_high']:.1%}])")  # fmt: skip
        text += _lead(rows, b, [i for i in group if i != b], correct)
        group = [rows[i] for i in group]
        freeze = next((r for r in group if r["strategy"] == "freeze"), None)
        if freeze is not None and best is not freeze and freeze["seconds"] > 0:
            text += (f". It costs {best['seconds'] / freeze['seconds']:.1f}x the time of freeze "
                     f"and trains {best['trainable_params']:,} parameters vs "
                     f"{freeze['trainable_params']:,}")  # fmt: skip
        moved = [r for r in group if r["feature_cka"] is not None and r["strategy"] != "freeze"]
        if moved:
            most = min(moved, key=lambda r: r["feature_cka"])
            text += (f". {most['strategy']} moved the features most (CKA before/after "
                     f"{most['feature_cka']:.2f})")  # fmt: skip
        ood = [r for r in group if r["ood_accuracy"] is not None]
        if ood:
            top = max(ood, key=lambda r: r["ood_accuracy"])
            text += f". On the shifted test set {top['strategy']} holds up best ({top['ood_accuracy']:.1%})"
        lines.append(text + ".")
    return "\n".join(lines)


def _lead(rows: list[dict[str, Any]], b: int, others: list[int], correct) -> str:
    """Whether run ``b`` leads each of ``others`` significantly (paired test when the
    per-item results are known, else non-overlapping 95% intervals, said so)."""
    if not others:
        return ""
    best = rows[b]
    if correct is not None and all(correct[i] is not None for i in [b, *others]):
        tests = {rows[i]["strategy"]: mcnemar_exact(correct[b], correct[i]) for i in others}
        tie = [name for name, t in tests.items() if not t.significant]
        if tie:
            worst = max((t for n, t in tests.items() if n in tie), key=lambda t: t.p_value)
            beaten = [name for name in tests if name not in tie]
            text = f"; its lead over {', '.join(tie)} is not significant ({worst.describe()})"
            return text + (f", over {', '.join(beaten)} it is" if beaten else "")
        strongest = max(tests.values(), key=lambda t: t.p_value)
        return f"; its lead over every other strategy is significant ({strongest.describe()})"
    tie = [rows[i]["strategy"] for i in others if rows[i]["ci_high"] >= best["ci_low"]]
    if tie:
        return f"; its lead over {', '.join(tie)} is within the 95% intervals (no paired test)"
    return "; its lead over every other strategy is beyond the 95% intervals (no paired test)"


def compare_strategies(
    source: Any,
    encoder: str,
    strategies: Sequence[str],
    budgets: Sequence[int | None] = (None,),
    *,
    out: str | Path = "reports/finetune",
    ood: str | None = None,
    ood_options: dict[str, Any] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    **options: Any,
) -> StrategyReport:
    """Run :func:`~reprlearn.adapt.finetune.finetune` for each strategy x budget into
    ``out/runs/STRATEGY-BUDGET`` and write the report (module doc).

    Args:
        budgets: labels per class (``None`` = all labels).
        ood: a shifted labelled test source (e.g. ``digits`` with a corruption option via
            ``ood_options``); each classifier is also scored there (only on the held-out
            test rows when ``ood`` is the training source itself).
        options: passed on to ``finetune`` (epochs, lr, head, ...).
    """
    from reprlearn.adapt.predict import predict

    out = prepare_out_dir(out, kind="report", overwrite=overwrite)
    rows: list[dict[str, Any]] = []
    correct: list[Any] = []
    with writer_lock(out):
        for budget in budgets:
            for strategy in strategies:
                run = out / "runs" / f"{strategy}-{budget_name(budget)}"
                r = finetune(source, encoder, strategy=strategy, out=run, labels_per_class=budget,
                             features_dir=out / "features", overwrite=True, progress=progress,
                             **options)  # fmt: skip
                ood_acc = None
                if ood is not None:
                    ood_acc = predict(run, _ood_rows(ood, ood_options, source, r),
                                      run / "ood_predictions.csv", progress=False).accuracy  # fmt: skip
                rows.append(row(r, ood_acc))
                known = r.y_pred is not None and r.y_test is not None
                correct.append(np.asarray(r.y_pred) == np.asarray(r.y_test) if known else None)
                _write(out, rows, "")
        report = StrategyReport(out, rows, conclude(rows, correct))
        _write(out, rows, report.conclusion)
    return report


def _ood_rows(ood: str, options: dict[str, Any] | None, source: Any, r: FinetuneResult):
    """The shifted test set; when it is the training source itself (e.g. corrupted digits),
    only its held-out test rows, so no training item is scored."""
    from reprlearn.data.load import load_dataset

    ds = load_dataset(ood, **(options or {}))
    if ood == source and r.test_rows is not None:
        return ds.select(r.test_rows)
    return ds


def _write(out: Path, rows: list[dict[str, Any]], conclusion: str) -> None:
    write_json_atomic(out / "results.json", {"rows": rows, "conclusion": conclusion})
    write_csv(rows, out / "results.csv")  # atomic, formula-safe
    _plot_budgets(out, rows)
    (out / "report.html").write_text(_html(out, rows, conclusion))


def _plot_budgets(out: Path, rows: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budgets = list(dict.fromkeys(r["labels_per_class"] for r in rows))
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    for strategy in dict.fromkeys(r["strategy"] for r in rows):
        pts = [(budgets.index(r["labels_per_class"]), r) for r in rows if r["strategy"] == strategy]
        xs = [x for x, _ in pts]
        ys = [r["accuracy"] for _, r in pts]
        err = [
            [r["accuracy"] - r["ci_low"] for _, r in pts],
            [r["ci_high"] - r["accuracy"] for _, r in pts],
        ]
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=strategy)
    ax.set_xticks(range(len(budgets)), budgets)
    ax.set_xlabel("labels per class")
    ax.set_ylabel("test accuracy (95% CI)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "accuracy.png", dpi=110)
    plt.close(fig)


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, int):
        return f"{v:,}"
    return html.escape(str(v))


def _html(out: Path, rows: list[dict[str, Any]], conclusion: str) -> str:
    cols = ["strategy", "labels_per_class", "accuracy", "ci_low", "ci_high", "macro_f1",
            "ood_accuracy", "trainable_params", "seconds", "peak_memory_mb", "memory_note",
            "feature_cka", "best_epoch"]  # fmt: skip
    if any(r.get("energy_inside") is not None for r in rows):
        cols += ["energy_inside", "attention_flag"]
    head = "".join(f"<th>{c}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r[c])}</td>" for c in cols) + "</tr>" for r in rows)
    curves = "".join(
        f"<figure><img src='{Path(r['run']).relative_to(out)}/curves.png'><figcaption>"
        f"{html.escape(r['strategy'])}, {r['labels_per_class']} labels/class</figcaption></figure>"
        for r in rows
    )
    cams = "".join(
        f"<figure><img src='{Path(r['run']).relative_to(out)}/cams.png'><figcaption>"
        f"{html.escape(r['strategy'])}, {r['labels_per_class']} labels/class"
        + (f" - <b style='color:#b91c1c'>{html.escape(r['attention_flag'])}</b>" if r.get("attention_flag") else "")
        + "</figcaption></figure>"
        for r in rows if (Path(r["run"]) / "cams.png").is_file()
    )  # fmt: skip
    if cams:
        cams = ("<h2>Where the classifiers look (Grad-CAM, test images)</h2><p>energy_inside: the "
                "share of the map's energy inside the object (shapes only; Wang et al. 2020).</p>"
                + cams)  # fmt: skip
    para = "".join(f"<p>{html.escape(line)}</p>" for line in conclusion.splitlines())
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>finetune strategies</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 6px;font-size:13px}}figure{{display:inline-block;margin:4px}}
img{{max-width:560px}}</style></head><body><h1>Fine-tuning strategies</h1>
<h2>Conclusion</h2>{para}<h2>Results</h2><table><tr>{head}</tr>{body}</table>
<p>Peak memory: RSS of the process on CPU (MiB), max allocated on CUDA. feature_cka: linear
CKA (Kornblith et al. 2019) between the backbone's test features before and after training.</p>
<h2>Accuracy by label budget</h2><img src="accuracy.png">
<h2>Learning curves</h2>{curves}{cams}</body></html>"""
