"""``predict`` and text fine-tuning on a CSV: the CSV feeds pandas, bad input gets clear errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from reprlearn.adapt.finetune import finetune
from reprlearn.adapt.predict import predict
from reprlearn.errors import DataError, StoreError

from .conftest import text_rows, write_csv

OPTS = {"source_options": {"label_column": "category"}, "precision": "fp32", "progress": False,
        "min_steps": 0}  # fmt: skip


@pytest.fixture(scope="module")
def text_run(tmp_path_factory, text_csv, tiny_st):
    out = tmp_path_factory.mktemp("runs") / "intents"
    finetune(text_csv, f"st:{tiny_st}", strategy="full", out=out, epochs=3, lr=3e-3,
             batch_size=16, **OPTS)  # fmt: skip
    return out


def test_text_full_finetune_and_predict_csv(tmp_path, text_run):
    rows = text_rows(4)
    rows[0]["text"] = "=HYPERLINK(1)"  # an item that looks like a formula
    src = write_csv(tmp_path / "new.csv", [{"text": r["text"]} for r in rows])
    res = predict(text_run, src, tmp_path / "pred.csv", progress=False, precision="fp32")
    df = pd.read_csv(tmp_path / "pred.csv")
    assert list(df.columns[:3]) == ["id", "prediction", "confidence"]
    assert list(df.columns[3:]) == ["prob_food", "prob_sport", "prob_tech"]
    assert len(df) == res.n_predicted == 12 and df["id"].tolist() == list(range(12))
    assert ((df[df.columns[3:]].sum(axis=1) - 1).abs() < 1e-4).all()
    assert (df["confidence"] == df[df.columns[3:]].max(axis=1)).all()
    assert set(df["prediction"]) <= {"food", "sport", "tech"} and res.accuracy is None


def test_predict_with_labels_reports_accuracy_and_unseen_labels_fail(tmp_path, text_run):
    rows = text_rows(4)
    src = write_csv(tmp_path / "test.csv", rows)
    res = predict(text_run, src, tmp_path / "p.csv", source_options={"label_column": "category"},
                  progress=False)  # fmt: skip
    assert res.accuracy is not None and 0 <= res.accuracy.value <= 1
    bad = write_csv(tmp_path / "bad.csv", [*rows, {"text": "a rainy day", "category": "weather"}])
    with pytest.raises(DataError, match=r"labels \['weather'\] were not seen in training"):
        predict(text_run, bad, tmp_path / "q.csv", source_options={"label_column": "category"},
                progress=False)  # fmt: skip


def test_predict_missing_column_lists_columns(tmp_path, text_run):
    src = write_csv(tmp_path / "other.csv", [{"sentence": "the team won", "x": "1"}])
    with pytest.raises(DataError, match="sentence"):
        predict(text_run, src, tmp_path / "p.csv", progress=False)


def test_predict_skips_bad_items_when_asked(tmp_path, text_run):
    src = write_csv(tmp_path / "gaps.csv", [{"text": "the team won"}, {"text": " "},
                                            {"text": "fresh bread"}])  # fmt: skip
    with pytest.raises(DataError, match="row 1.*--on-error skip"):
        predict(text_run, src, tmp_path / "p.csv", progress=False)
    res = predict(text_run, src, tmp_path / "p.csv", on_error="skip", progress=False)
    assert res.n_predicted == 2 and [s["id"] for s in res.skipped] == [1]
    assert pd.read_csv(tmp_path / "p.csv")["id"].tolist() == [0, 2]


def test_predict_on_a_run_that_is_not_a_classifier(tmp_path, tiny_ckpt):
    with pytest.raises(StoreError, match="is not a classifier"):
        predict(tiny_ckpt, "digits", tmp_path / "p.csv", progress=False)


def test_cli_predict_prints_accuracy_and_errors_in_one_line(tmp_path, text_run):
    src = write_csv(tmp_path / "test.csv", text_rows(3))
    cli = [sys.executable, "-m", "reprlearn.cli", "predict", str(text_run), src]
    ok = subprocess.run([*cli, "--label-column", "category", "--out", str(tmp_path / "p.csv")],
                        capture_output=True, text=True)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "accuracy against the given labels" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "reprlearn.cli", "predict", str(tmp_path), src],
                         capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "not a finetune run folder" in " ".join(bad.stderr.split())
