"""``reprlearn augment-text`` and ``finetune --augment-text`` as a user runs them: tables
written as CSV/Parquet, originals unless --only-new, one-line errors for bad input, and
augmented rows joining the training split only (recorded in config.json)."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

ROWS = [
    ("a wonderful , clever and moving film", "pos"),
    ('=HYPERLINK("http://x","click") a charming movie', "pos"),
    ("", "neg"),
    ("Dreadful", "neg"),
    ("a dull , tedious and silly story", "neg"),
]


@pytest.fixture
def reviews(tmp_path):
    path = tmp_path / "reviews.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["review", "category"])
        w.writerows(ROWS)
    return path


def test_augment_text_csv_with_originals(run_main, reviews, tmp_path, capsys, monkeypatch):
    out = tmp_path / "eda.csv"
    code, stdout, err = run_main(
        ["augment-text", str(reviews), "--text-column", "review", "--label-column", "category",
         "--method", "eda", "--n", "3", "--alpha", "0.2", "--seed", "1", "--out", str(out)],
        capsys, monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    t = pd.read_csv(out, keep_default_na=False)
    assert list(t.columns) == ["id", "source_id", "text", "label", "method"]
    originals = t[t["method"] == "original"]
    assert len(originals) == 5 and list(originals["label"]) == [r[1] for r in ROWS]
    assert originals["text"].iloc[1].startswith("'=HYPERLINK")  # formula neutralised
    new = t[t["method"] != "original"]
    assert 2 not in set(new["source_id"])  # the empty text: kept, counted, not augmented
    labels = dict(enumerate(r[1] for r in ROWS))
    assert all(new["label"] == new["source_id"].map(labels))
    assert "empty" in stdout and "one word" in stdout and "wrote" in stdout


def test_only_new_parquet_and_seeded(run_main, reviews, tmp_path, capsys, monkeypatch):
    args = ["augment-text", str(reviews), "--text-column", "review", "--label-column",
            "category", "--ops", "rs", "--n", "2", "--only-new", "--json"]  # fmt: skip
    code, stdout, err = run_main([*args, "--out", str(tmp_path / "a.parquet")], capsys,
                                 monkeypatch)  # fmt: skip
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["options"]["operations"] == ["rs"] and summary["counts"]["originals"] == 5
    a = pd.read_parquet(tmp_path / "a.parquet")
    assert set(a["method"]) == {"eda:rs"} and len(a) == summary["rows"]
    run_main([*args, "--out", str(tmp_path / "b.parquet")], capsys, monkeypatch)
    assert a.equals(pd.read_parquet(tmp_path / "b.parquet"))
    code, _, err = run_main([*args, "--out", str(tmp_path / "a.parquet")], capsys, monkeypatch)
    assert code == 2 and "--overwrite" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "synonyms"], "choose eda or backtranslate"),
        (["--alpha", "0"], "in (0, 1]"),
        (["--alpha", "1.2"], "in (0, 1]"),
        (["--ops", "sr,shuffle"], "unknown EDA operation"),
        (["--text-column", "body"], "body"),
        (["--out", "x.txt"], ".csv or .parquet"),
    ],
)
def test_bad_input_is_one_clear_line(
    run_main, reviews, tmp_path, capsys, monkeypatch, extra, message
):
    args = ["augment-text", str(reviews), "--label-column", "category", "--out",
            str(tmp_path / "o.csv")]  # fmt: skip
    if "--text-column" not in extra:
        args += ["--text-column", "review"]
    code, _, err = run_main([*args, *extra], capsys, monkeypatch)
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_images_in_a_text_command(run_main, tmp_path, capsys, monkeypatch):
    code, _, err = run_main(["augment-text", "digits", "--out", str(tmp_path / "o.csv")],
                            capsys, monkeypatch)  # fmt: skip
    assert code == 2 and "images" in err and "reprlearn augment" in err


def test_finetune_augment_text_joins_train_only(run_main, tmp_path, capsys, monkeypatch):
    pos = ["a wonderful clever film", "a charming funny movie", "a delightful moving story"]
    neg = ["a dull boring film", "a tedious silly movie", "a bland lifeless story"]
    src = tmp_path / "train.csv"
    texts = [f"{t} {i}" for i in range(8) for t in pos + neg]
    labels = [lab for _ in range(8) for lab in ["pos"] * 3 + ["neg"] * 3]
    pd.DataFrame({"text": texts, "label": labels}).to_csv(src, index=False)
    code, _, err = run_main(
        ["finetune", str(src), "--encoder", "lsa:4", "--strategy", "freeze", "--augment-text",
         "eda", "--n", "2", "--lp-epochs", "3", "--min-steps", "5", "--out", str(tmp_path / "run"), "--json"],
        capsys, monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    config = json.loads((tmp_path / "run" / "config.json").read_text())["options"]
    counts = config["augment_text_counts"]
    assert config["augment_text"] == "eda" and config["augment_text_n"] == 2
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["n_train"] == counts["train_rows"] + counts["rows_added"]
    assert counts["rows_added"] == 2 * counts["train_rows"] - counts["unchanged"]
    assert results["n_test"] + results["n_val"] + counts["train_rows"] == 48
    code, _, err = run_main(
        ["finetune", str(src), "--encoder", "lsa:4", "--augment-text", "eda", "--eda-alpha", "3",
         "--out", str(tmp_path / "run2")], capsys, monkeypatch,
    )  # fmt: skip
    assert code == 2 and "(0, 1]" in err and not (tmp_path / "run2").exists()
