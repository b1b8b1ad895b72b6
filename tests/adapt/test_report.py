"""Strategy comparison: report.html, results.json/csv with CI, OOD, CKA and a conclusion."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from reprlearn.adapt.cka import linear_cka
from reprlearn.adapt.report import compare_strategies, conclude


def test_linear_cka_invariances():
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 10))
    Q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    assert linear_cka(X, 3 * X @ Q + 1) == pytest.approx(1.0)  # rotation, scale, shift
    assert linear_cka(X, rng.normal(size=(200, 10))) < 0.2


def test_conclusion_is_derived_from_the_numbers():
    rows = [
        {"strategy": "freeze", "labels_per_class": "all", "accuracy": 0.80, "ci_low": 0.76,
         "ci_high": 0.84, "seconds": 2.0, "trainable_params": 100, "feature_cka": 1.0,
         "ood_accuracy": None},
        {"strategy": "full", "labels_per_class": "all", "accuracy": 0.95, "ci_low": 0.93,
         "ci_high": 0.97, "seconds": 20.0, "trainable_params": 10_000, "feature_cka": 0.6,
         "ood_accuracy": None},
    ]  # fmt: skip
    text = conclude(rows)
    assert "full is best (95.0% [93.0%, 97.0%])" in text
    assert (
        "beyond the 95% intervals (no paired test)" in text and "10.0x the time of freeze" in text
    )
    assert "CKA before/after 0.60" in text


def test_lead_is_judged_by_a_paired_test_on_the_same_items():
    """35.5% vs 27.5% on the same 400 items: the marginal 95% intervals overlap, but
    McNemar's exact test finds the lead significant; identical predictions are a tie."""
    import numpy as np

    n = 400
    full = np.zeros(n, bool)
    full[:142] = True  # 35.5%
    freeze = np.zeros(n, bool)
    freeze[:110] = True  # 27.5%, a subset of full's right answers
    rows = [
        {"strategy": "freeze", "labels_per_class": "all", "accuracy": 0.275, "ci_low": 0.23,
         "ci_high": 0.32, "seconds": 1.0, "trainable_params": 10, "feature_cka": 1.0,
         "ood_accuracy": None},
        {"strategy": "full", "labels_per_class": "all", "accuracy": 0.355, "ci_low": 0.31,
         "ci_high": 0.40, "seconds": 5.0, "trainable_params": 1000, "feature_cka": 0.7,
         "ood_accuracy": None},
    ]  # fmt: skip
    text = conclude(rows, [freeze, full])
    assert "its lead over every other strategy is significant" in text
    assert "McNemar's exact test on the same 400 test items: 32 vs 0" in text
    tied = conclude(rows, [full, full])
    assert "its lead over freeze is not significant" in tied


def test_compare_strategies_writes_the_report(tmp_path, tiny_ckpt):
    pytest.importorskip("kornia")
    report = compare_strategies(
        "digits", f"ckpt:{tiny_ckpt}", ["freeze", "full"], [5, None], out=tmp_path / "rep",
        ood="digits", ood_options={"corruption": "gaussian_noise:5"}, epochs=2, batch_size=64,
        lr=3e-3, precision="fp32", progress=False, min_steps=0, lp_epochs=2,
    )  # fmt: skip
    out = report.out
    for name in ("report.html", "results.json", "results.csv", "accuracy.png"):
        assert (out / name).is_file(), name
    df = pd.read_csv(out / "results.csv")
    assert list(df["strategy"]) == ["freeze", "full", "freeze", "full"]
    assert list(df["labels_per_class"].astype(str)) == ["5", "5", "all", "all"]
    assert (df["ci_low"] <= df["accuracy"]).all() and (df["accuracy"] <= df["ci_high"]).all()
    assert df["ood_accuracy"].between(0, 1).all() and (df["peak_memory_mb"] > 0).all()
    ood_rows = pd.read_csv(out / "runs" / "full-all" / "ood_predictions.csv")
    assert len(ood_rows) == 360  # corrupted digits: only the held-out test rows are scored
    freeze, full = df.iloc[2], df.iloc[3]
    assert freeze["feature_cka"] == 1.0 and 0 < full["feature_cka"] < 1
    assert full["trainable_params"] > 10 * freeze["trainable_params"]
    saved = json.loads((out / "results.json").read_text())
    assert saved["conclusion"] == report.conclusion and "labels per class" in report.conclusion
    html = (out / "report.html").read_text()
    assert "runs/full-all/curves.png" in html and "accuracy.png" in html
    assert (out / "runs" / "full-5" / "curves.png").is_file()
    # freeze features were computed once and shared by both budgets
    assert (out / "features" / "source" / "manifest.json").is_file()


def test_finetune_curves_have_integer_epoch_ticks():
    from reprlearn.adapt.plots import finetune_curves_figure

    records = [{"train_loss": 2 - e / 3, "val_loss": 2.1 - e / 3, "train_acc": e / 5,
                "val_acc": e / 6} for e in range(5)]  # fmt: skip
    fig = finetune_curves_figure(records)
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
