"""compare: the main job, end to end on the bundled digits."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reprlearn.cli import _register_commands, app
from reprlearn.errors import DataError
from reprlearn.report.compare import compare


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    result = compare(
        "digits",
        ["pca:8", "random-projection:4"],
        out,
        budgets=(1, 5, "all"),
        repeats=3,
        progress=False,
    )
    return result, out


def test_ranking_is_by_linear_accuracy_and_pca_beats_4d_projection(report):
    result, _ = report
    names = [r.encoder for r in result.ranking]
    assert names == ["pca:8", "random-projection:4"]
    accs = [r.accuracy for r in result.ranking]
    assert accs[0] > accs[1] > 0.3
    assert result.conclusion.startswith("pca:8 ranks first")


def test_writes_results_and_a_self_contained_html(report):
    result, out = report
    data = json.loads((out / "results.json").read_text())
    assert [r["encoder"] for r in data["ranking"]] == ["pca:8", "random-projection:4"]
    assert data["budgets"] == [1, 5, "all"]
    assert (out / "results.csv").read_text().splitlines()[0].startswith("encoder,dim,linear_acc")
    page = (out / "report.html").read_text()
    assert (
        page.count("data:image/png;base64,") >= 1 + 2 * 3
    )  # curve + per encoder sim/map/confusion
    assert "pca:8 ranks first" in page
    for enc in ("pca-8", "random-projection-4"):
        assert (out / "encoders" / enc / "similarity.png").is_file()
        assert (out / "encoders" / enc / "map.png").is_file()


def test_label_efficiency_grows_with_labels(report):
    result, _ = report
    acc = [a["value"] for a in result.ranking[0].label_efficiency["accuracy"]]
    assert acc[0] < acc[1] < acc[2]


def test_rerun_reuses_the_cached_embeddings(report):
    result, out = report
    manifest = (out / "embeddings" / "pca-8" / "manifest.json").read_text()
    compare("digits", ["pca:8"], out, budgets=(1, "all"), repeats=2, progress=False)
    assert (out / "embeddings" / "pca-8" / "manifest.json").read_text() == manifest


def test_unlabelled_source_is_a_clear_error(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("a\nb\n")
    with pytest.raises(DataError, match="compare needs labels"):
        compare(str(path), ["tfidf"], tmp_path / "r", progress=False)


def test_cli_json(tmp_path):
    _register_commands()
    res = CliRunner().invoke(
        app,
        [
            "compare",
            "--encoders",
            "pca:4",
            "--out",
            str(tmp_path),
            "--label-efficiency",
            "2,all",
            "--repeats",
            "2",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["ranking"][0]["encoder"] == "pca:4"


def test_cli_rejects_bad_budgets(tmp_path):
    _register_commands()
    res = CliRunner().invoke(app, ["compare", "--label-efficiency", "1,x", "--out", str(tmp_path)])
    assert res.exit_code != 0 and "positive integers" in res.output


def test_autoencoder_encoders_get_reconstructions_in_the_report(tmp_path):
    from reprlearn.training.pretrain import pretrain

    pretrain("digits", method="ae", backbone="mlp", out=tmp_path / "ae", epochs=1,
             max_items=300, progress=False, method_options={"latent_dim": 8})  # fmt: skip
    result = compare("digits", [f"ckpt:{tmp_path / 'ae'}"], tmp_path / "r", budgets=(1, "all"),
                     repeats=2, progress=False)  # fmt: skip
    files = result.ranking[0].files
    assert (tmp_path / "r" / files["recon"]).is_file() and "samples" not in files
    assert "inputs (top) and reconstructions" in (tmp_path / "r" / "report.html").read_text()
