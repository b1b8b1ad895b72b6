"""``reprlearn pretrain`` and ``reprlearn augment`` on digits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from reprlearn.cli import _register_commands
from reprlearn.cli.app import app
from reprlearn.cli.pretrain import parse_sets

runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _commands():
    _register_commands()


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models train far faster on one thread than on contended cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_pretrain_cli_one_epoch_on_digits(tmp_path):
    out = tmp_path / "run"
    args = ["pretrain", "digits", "--method", "vicreg", "--backbone", "mlp", "--out", str(out),
            "--epochs", "1", "--batch-size", "128", "--max-items", "400", "--precision", "fp32",
            "--set", "expander_dim=64", "--json"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "results.json").read_text())
    assert summary["encoder"] == f"ckpt:{out}"
    assert summary["final"]["epoch"] == 0 and summary["final"]["knn_top1"] > 0.3
    config = json.loads((out / "config.json").read_text())
    assert config["method"] == "vicreg" and config["method_config"]["expander_dim"] == 64
    assert config["backbone"] == "mlp" and config["recipe"] == "digits"
    assert len((out / "log.jsonl").read_text().splitlines()) == 1


def test_pretrain_cli_reports_bad_options(tmp_path):
    res = runner.invoke(app, ["pretrain", "digits", "--method", "nope", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "simclr" in res.output
    res = runner.invoke(app, ["pretrain", "digits", "--out", str(tmp_path / "r"), "--epochs",
                              "1", "--max-items", "100", "--set", "no_such_option=1"])  # fmt: skip
    assert res.exit_code == 2 and "no_such_option" in res.output


def test_parse_sets():
    assert parse_sets(["temperature=0.2", "predictor=false", "init=he"]) == {
        "temperature": 0.2, "predictor": False, "init": "he"}  # fmt: skip


def test_augment_cli_writes_grid(tmp_path):
    out = tmp_path / "grid.png"
    res = runner.invoke(app, ["augment", "digits", "--recipe", "digits", "--out", str(out),
                              "--n", "4", "--views", "3", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    with Image.open(out) as im:  # 4 rows x (1 + 3) columns of 8 px tiles, 1 px padding
        width, height = im.size
        scale = width // (4 * 9 + 1)
        assert width == height == (4 * 9 + 1) * scale  # upscaled, by an integer factor
        assert width >= 800 and 8 * scale >= 96  # large enough to see (was 37 x 37 px)
        a = np.asarray(im.convert("L"))
    tile = a[scale : 9 * scale, scale : 9 * scale]  # first image, nearest-neighbour blocks
    blocks = tile.reshape(8, scale, 8, scale)
    assert (blocks == blocks[:, :1, :, :1]).all()
    res = runner.invoke(app, ["augment", "digits", "--recipe", "nope", "--out", str(out)])
    assert res.exit_code == 2


def test_augment_cli_refuses_bad_out_and_numbers(tmp_path):
    res = runner.invoke(app, ["augment", "digits", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "is a folder" in res.output
    res = runner.invoke(app, ["augment", "digits", "--out", str(tmp_path / "grid")])
    assert res.exit_code == 2 and ".png" in res.output
    res = runner.invoke(app, ["augment", "digits", "--n", "0", "--out", str(tmp_path / "g.png")])
    assert res.exit_code == 2 and not (tmp_path / "g.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--epochs", "0"], "--epochs must be at least 1, got 0"),
     (["--batch-size", "-5"], "--batch-size must be at least 1, got -5"),
     (["--lr", "0"], "--lr must be greater than 0"),
     (["--set", "temperature=abc"], "--set temperature expects a float, got 'abc'"),
     (["--set", "temprature=0.1"], "its options are proj_hidden, proj_out, temperature, init")],
)  # fmt: skip
def test_pretrain_cli_checks_options_before_any_work(tmp_path, args, message):
    out = tmp_path / "r"
    res = runner.invoke(app, ["pretrain", "digits", "--out", str(out), *args])
    assert res.exit_code == 2 and message in " ".join(res.output.split()), res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert not out.exists()


def test_pretrain_cli_folder_messages(tmp_path):
    import os

    import torch

    from reprlearn.outdir import prepare_out_dir

    out = prepare_out_dir(tmp_path / "run", kind="run")
    torch.save({"epoch": 0, "x": os.getcwd}, out / "last.ckpt")  # a pickled function
    base = ["pretrain", "digits", "--out", str(out), "--epochs", "2"]
    res = runner.invoke(app, base)
    text = " ".join(res.output.split())
    assert res.exit_code == 2
    assert "unfinished run: pass --resume to continue it, or --overwrite to start afresh" in text
    res = runner.invoke(app, [*base, "--resume"])
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and "unsafe to load" in text and "pickled Python objects" in text
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    res = runner.invoke(app, ["pretrain", "digits", "--out", str(foreign), "--overwrite"])
    assert res.exit_code == 2 and (foreign / "notes.txt").read_text() == "keep"


def test_pretrain_cli_ctrl_c_says_how_to_resume(tmp_path, monkeypatch):
    import reprlearn.training.pretrain as training

    def interrupted(source, out, **kw):
        Path(out).mkdir(parents=True)
        (Path(out) / "last.ckpt").write_bytes(b"")  # an epoch finished before Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "pretrain", interrupted)
    res = runner.invoke(app, ["pretrain", "digits", "--out", str(tmp_path / "r")])
    assert res.exit_code == 130
    assert "interrupted; rerun the same command with --resume to continue" in res.output
