"""``reprlearn pretrain`` and ``reprlearn augment`` on digits."""

from __future__ import annotations

import json

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
        assert im.size == (4 * 9 + 1, 4 * 9 + 1)
    res = runner.invoke(app, ["augment", "digits", "--recipe", "nope", "--out", str(out)])
    assert res.exit_code == 2
