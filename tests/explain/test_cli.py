"""The explain, filters and feature-maps commands end to end on a real finetune run, and
their one-line errors."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image
from typer.testing import CliRunner

import reprlearn.cli
from reprlearn.cli.app import app

reprlearn.cli._register_commands()
runner = CliRunner()


def _main(args, monkeypatch, capsys) -> tuple[int, str]:
    """Run the console script's ``main`` (which turns user errors into one line, exit 2)."""
    monkeypatch.setattr("sys.argv", ["reprlearn", *args])
    monkeypatch.setenv("COLUMNS", "400")
    try:
        reprlearn.cli.main()
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_explain_inside_mask_json_and_grid(tiny_run, tmp_path):
    png = tmp_path / "cams.png"
    result = runner.invoke(app, ["explain", str(tiny_run), "shapes:60", "--n", "6",
                                 "--inside-mask", "--json", "--out", str(png)])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["method"] == "gradcam" and data["n"] == 6
    assert 0.0 <= data["energy_inside"] <= 1.0 and 0.0 <= data["accuracy"] <= 1.0
    assert data["layer"].startswith("backbone.")
    assert {"true", "pred", "confidence", "energy_inside"} <= set(data["items"][0])
    assert Image.open(png).size[0] > 200


def test_explain_faithfulness_and_randomisation_check(tiny_run):
    from reprlearn import explain

    result = explain(tiny_run, "shapes:40", n=4, method="gradcam++", faithfulness=True,
                     sanity=True, target="true")  # fmt: skip
    assert np.isfinite(result.road)
    assert sorted(result.deletion) == [10, 20, 30, 40, 50, 60, 70, 80, 90]
    # Adebayo et al.: a randomised model's maps must differ from the trained model's
    assert result.randomisation_spearman < 0.9
    assert result.target == "true class"


def test_filters_and_feature_maps(tiny_run, tmp_path):
    result = runner.invoke(app, ["filters", str(tiny_run), "--out", str(tmp_path / "f.png")])
    assert result.exit_code == 0, result.output
    assert "filters of" in result.output and (tmp_path / "f.png").is_file()
    deeper = runner.invoke(app, ["filters", str(tiny_run), "--layer", "backbone.backbone.1.3",
                                 "--out", str(tmp_path / "f3.png")])  # fmt: skip
    assert deeper.exit_code == 0, deeper.output
    image = tmp_path / "in.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (16, 16, 3), np.uint8)).save(image)
    maps = runner.invoke(app, ["feature-maps", str(tiny_run), str(image),
                               "--out", str(tmp_path / "m.png")])  # fmt: skip
    assert maps.exit_code == 0, maps.output
    assert (tmp_path / "m.png").is_file()


def test_unknown_layer_lists_the_layers(tiny_run, monkeypatch, capsys):
    code, output = _main(["explain", str(tiny_run), "shapes:20", "--n", "2",
                          "--layer", "backbone.nope"], monkeypatch, capsys)  # fmt: skip
    assert code == 2 and "Traceback" not in output
    assert "no layer named 'backbone.nope'" in output
    assert "layers that can be hooked" in output and "backbone.backbone.1.17" in output


def test_classical_encoder_and_text_source_are_clear_errors(tiny_run, tmp_path, monkeypatch,
                                                           capsys):  # fmt: skip
    from reprlearn.explain.api import explain

    code, output = _main(["explain", "pca:8", "digits", "--n", "2"], monkeypatch, capsys)
    assert code == 2 and "pca:8 is a classical encoder" in output
    texts = tmp_path / "t.csv"
    texts.write_text("text,label\nhello there,a\ngood bye,b\n")
    try:
        explain(tiny_run, str(texts), n=2)
    except ValueError as e:
        assert "holds texts, but the model reads images" in str(e)
    else:
        raise AssertionError("texts to an image model must be an error")


def test_inside_mask_needs_shapes(tiny_run, monkeypatch, capsys):
    code, output = _main(["explain", str(tiny_run), "digits", "--n", "2", "--inside-mask"],
                         monkeypatch, capsys)  # fmt: skip
    assert code == 2 and "use the shapes dataset" in output


def test_encoder_without_head_prototype_and_reference_targets(tiny_run, tmp_path):
    from reprlearn import explain

    encoder = f"ckpt:{tiny_run.parent / 'ssl'}"
    result = explain(encoder, "shapes:40", n=3, out=tmp_path / "enc.png")
    assert result.target == "similarity to the class prototype" and result.accuracy is None
    assert result.layer.startswith("backbone.") and (tmp_path / "enc.png").is_file()
    reference = tmp_path / "ref.png"
    Image.fromarray(np.full((16, 16, 3), 200, np.uint8)).save(reference)
    ref = explain(encoder, "shapes:40", n=3, reference=reference)
    assert ref.target == "similarity to the reference image"
    eigen = explain(encoder, "shapes:40", n=3, method="eigencam")
    assert eigen.target.startswith("none")


def test_text_run_dispatches_to_token_attributions(tmp_path, monkeypatch, capsys):
    import sys
    import types

    run = tmp_path / "text-run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(
        {"format": "reprlearn-finetune/1", "modality": "text", "encoder": "st:x"}))  # fmt: skip
    calls = {}

    def explain_text(run, source, *, n=20, out=None, target="pred", source_options=None, seed=0):
        calls.update(run=run, source=source, n=n, out=out, target=target, seed=seed)
        return {"n": n, "out": str(out)}

    stub = types.ModuleType("reprlearn.explain.text_attribution")
    stub.explain_text = explain_text
    monkeypatch.setitem(sys.modules, "reprlearn.explain.text_attribution", stub)
    code, output = _main(["explain", str(run), "texts.csv", "--n", "5", "--out",
                          str(tmp_path / "t.html"), "--json"], monkeypatch, capsys)  # fmt: skip
    assert code == 0, output
    assert calls["n"] == 5 and calls["source"] == "texts.csv" and calls["target"] == "pred"
    assert calls["seed"] == 0 and str(calls["out"]).endswith("t.html")
    assert json.loads(output)["n"] == 5


def test_bad_options_fail_before_loading_anything():
    import pytest

    from reprlearn import explain
    from reprlearn.errors import DataError, ReprlearnError

    with pytest.raises(DataError, match="--n must be at least 1"):
        explain("no-such-run", "shapes:10", n=0)
    with pytest.raises(DataError, match="unknown --target 'best'"):
        explain("no-such-run", "shapes:10", target="best")
    with pytest.raises(ReprlearnError, match=r"unknown --method 'gradcam\+'"):
        explain("no-such-run", "shapes:10", method="gradcam+")
