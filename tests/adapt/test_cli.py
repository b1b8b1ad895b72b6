"""The ``finetune`` command in process: help, --list-blocks, a run, and one-line errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import reprlearn.cli
from reprlearn.cli.app import app

reprlearn.cli._register_commands()
runner = CliRunner()


def test_help_names_every_option_a_user_needs():
    result = runner.invoke(app, ["finetune", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--strategy", "--unfreeze", "--list-blocks", "--backbone-lr-mult",
                   "--layer-decay", "--head", "--head-hidden", "--init", "--dropout", "--norm",
                   "--label-smoothing", "--val-split", "--labels-per-class", "--resume",
                   "--ood"):  # fmt: skip
        assert option in result.output, option


def test_list_blocks_of_a_pretrain_run(tiny_ckpt):
    result = runner.invoke(app, ["finetune", "--list-blocks", f"ckpt:{tiny_ckpt}"],
                           env={"COLUMNS": "200"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 blocks" in result.output


def test_finetune_json_run(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["finetune", "digits", "--encoder", "pca:16", "--lp-epochs", "2",
                                 "--lr", "0.01", "--out", str(out), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["strategy"] == "freeze" and data["accuracy"]["value"] > 0.5
    assert (out / "config.json").is_file()


def test_bad_budget_is_one_line(tmp_path):
    result = runner.invoke(app, ["finetune", "digits", "--encoder", "pca:16",
                                 "--labels-per-class", "5,lots", "--out", str(tmp_path / "r")])  # fmt: skip
    assert result.exit_code == 2 and "--labels-per-class expects" in result.output
