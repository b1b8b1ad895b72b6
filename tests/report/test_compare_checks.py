"""compare checks every name, option, modality and optional library before any work
(issue 15 item 4, issue 14), and --overwrite only replaces a report reprlearn wrote."""

from __future__ import annotations

import importlib.util
import json

import pytest
from typer.testing import CliRunner

from reprlearn.cli import _register_commands, app
from reprlearn.errors import DataError
from reprlearn.outdir import OutputError
from reprlearn.report.compare import compare

_register_commands()
runner = CliRunner()


@pytest.fixture
def texts(tmp_path):
    path = tmp_path / "intents.csv"
    rows = ["text,label"] + [f"please book a table for {i} people,book" for i in range(6)]
    rows += [f"what is the weather like in city {i},weather" for i in range(6)]
    path.write_text("\n".join(rows) + "\n")
    return path


def _no_work(out):
    assert not (out / "embeddings").exists() and not (out / "results.json").exists()


def test_typo_in_an_encoder_name_fails_before_the_first_encoder_runs(texts, tmp_path):
    out = tmp_path / "r"
    res = runner.invoke(
        app, ["compare", str(texts), "--encoders", "tfidf,minlm_", "--out", str(out)]
    )
    assert res.exit_code == 2
    assert "unknown encoder 'minlm_'" in res.output and "Did you mean minilm?" in res.output
    _no_work(out)


def test_empty_encoder_list_is_an_error(texts, tmp_path):
    for value in ("", "tfidf,,lsa:8"):
        res = runner.invoke(
            app, ["compare", str(texts), "--encoders", value, "--out", str(tmp_path / "r")]
        )
        assert res.exit_code == 2 and "names no encoder" in res.output, res.output
    _no_work(tmp_path / "r")


def test_encoder_for_the_other_modality_fails_before_work(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(DataError, match=r"digits holds image items .* tfidf reads text"):
        compare("digits", ["pca:8", "tfidf"], out, progress=False)
    _no_work(out)


def test_umap_without_umap_learn_fails_before_work(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "umap" else real(name, *a)
    )
    out = tmp_path / "r"
    with pytest.raises(ImportError, match="umap-learn"):
        compare("digits", ["pca:8"], out, projection="umap", progress=False)
    _no_work(out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--repeats", "0"], "--repeats 0"),
        (["--sample", "1"], "--sample 1"),
        (["--protocols", "linear,svm"], "unknown 'svm'"),
        (["--protocols", "kmeans,logme"], "include linear, knn or mteb"),
        (["--projection", "mds"], "--projection 'mds'"),
    ],
)
def test_bad_options_fail_before_work(args, message, tmp_path):
    out = tmp_path / "r"
    res = runner.invoke(app, ["compare", "--encoders", "pca:4", "--out", str(out), *args])
    assert res.exit_code == 2 and message in res.output, res.output
    _no_work(out)


def test_overwrite_replaces_only_a_report_reprlearn_wrote(tmp_path, monkeypatch):
    out = tmp_path / "r"
    args = ["compare", "--encoders", "pca:4", "--out", str(out), "--protocols", "linear",
            "--json"]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    (out / "old-plot.png").write_bytes(b"stale")
    res = runner.invoke(app, [*args, "--overwrite"])
    assert res.exit_code == 0, res.output
    assert not (out / "old-plot.png").exists() and (out / "results.json").is_file()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    res = runner.invoke(app, ["compare", "--encoders", "pca:4", "--out", str(mine), "--overwrite"])
    assert res.exit_code == 2 and "reprlearn did not write" in res.output
    assert (mine / "notes.txt").read_text() == "keep me"
    monkeypatch.chdir(out)
    with pytest.raises(OutputError, match="working directory"):
        compare("digits", ["pca:4"], ".", protocols="linear", overwrite=True, progress=False)


def test_stages_are_shown_timed_and_chosen_by_protocols(tmp_path):
    out = tmp_path / "r"
    args = ["compare", "--encoders", "pca:8", "--out", str(out), "--protocols", "knn,label-efficiency",
            "--label-efficiency", "1000", "--repeats", "1"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    for stage in ("embed", "inspect", "load and split", "kNN probe", "label efficiency"):
        assert f"pca:8: {stage}" in res.output
    assert "linear probe" not in res.output and "k-means" not in res.output
    assert "1000 labels per class: more than any class has" in res.output
    data = json.loads((out / "results.json").read_text())
    stages = {"embed", "inspect", "load", "knn", "label-efficiency"}
    assert set(data["stage_seconds"]["pca:8"]) == stages
    assert all(s >= 0 for s in data["stage_seconds"]["pca:8"].values())
    assert data["rank_by"] == "knn" and data["ranking"][0]["linear_acc"] is None
    assert "all 1437 training items were used" in data["notes"][0]
    assert "1000 labels per class" in (out / "report.html").read_text()


def test_a_class_with_one_item_fails_before_work(texts, tmp_path):
    texts.write_text(texts.read_text() + "play some jazz,music\n")
    out = tmp_path / "r"
    with pytest.raises(DataError, match="class 'music' has a single item.*--test"):
        compare(str(texts), ["tfidf"], out, progress=False)
    _no_work(out)


def test_knn_k_fits_a_small_training_part_and_says_so(texts, tmp_path):
    result = compare(str(texts), ["tfidf"], tmp_path / "r", protocols="knn", progress=False)
    assert result.ranking[0].knn["k"] == 9  # 12 items, 80% = 9 < 20
    assert "kNN uses k=9: the training part has fewer than 20 items" in result.notes


def test_the_advised_overwrite_exists_and_replaces_a_report_of_another_source(tmp_path):
    """Issue 14: compare's message advised --overwrite, which compare did not have."""
    out = tmp_path / "r"
    args = ["compare", "--encoders", "pca:4", "--protocols", "linear", "--out", str(out)]
    assert runner.invoke(app, [*args, "--json"]).exit_code == 0
    res = runner.invoke(app, ["compare", "shapes:200", *args[1:]])  # another source, same out
    assert res.exit_code == 2 and "--overwrite" in res.output, res.output
    res = runner.invoke(app, ["compare", "shapes:200", *args[1:], "--overwrite", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["source"] == "shapes:200"
