"""``pretrain`` and ``finetune --devices 2 --accelerator cpu`` as a user runs them: the CLI
in a subprocess (Lightning's ``ddp`` launcher re-runs ``sys.argv`` for rank 1, which
cannot happen inside pytest), two gloo processes, one run folder written by rank 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

DDP = ["--devices", "2", "--accelerator", "cpu", "--precision", "fp32"]
PRETRAIN = ["pretrain", "digits", "--method", "simclr", "--backbone", "small_cnn",
            "--batch-size", "32", "--max-items", "200", "--set", "proj_hidden=32",
            "--set", "proj_out=16", *DDP]  # fmt: skip


def _cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "reprlearn.cli", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)  # fmt: skip


def _log(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """One epoch of SimCLR on 160 digits, 32 per process and step: 2 steps (5 in one process)."""
    out = tmp_path_factory.mktemp("ddp") / "simclr"
    proc = _cli(*PRETRAIN, "--epochs", "1", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_pretrain_two_processes_write_one_run_folder(ddp_run):
    out, proc = ddp_run
    for name in ("config.json", "backbone.safetensors", "method.safetensors", "last.ckpt",
                 "log.jsonl", "curves.png", "results.json", "settings.json"):  # fmt: skip
        assert (out / name).is_file(), name
    (record,) = _log(out)
    assert record["step"] == 2  # 160 items / (2 processes x 32): the data was split
    assert record["items_per_s"] > 0 and record["loss"] > 0
    # one report: rank 1 (re-run by Lightning) prints and writes nothing
    assert proc.stdout.count('"encoder"') == 1, proc.stdout
    assert json.loads(proc.stdout)["final"]["step"] == 2
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))
    from reprlearn.encoders import load_encoder

    enc = load_encoder(f"ckpt:{out}")
    assert enc.dim == json.loads((out / "config.json").read_text())["feat_dim"]


def test_finetune_two_processes(ddp_run, tmp_path):
    out = tmp_path / "ft"
    proc = _cli("finetune", "digits", "--encoder", f"ckpt:{ddp_run[0]}", "--strategy", "full",
                "--labels-per-class", "8", "--epochs", "1", "--min-steps", "1",
                "--batch-size", "16", *DDP, "--out", str(out), "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)  # exactly one JSON report (rank 0's)
    assert summary["n_train"] + summary["n_val"] == 80 and 0 <= summary["accuracy"]["value"] <= 1
    for name in ("config.json", "head.safetensors", "backbone.safetensors", "results.json",
                 "confusion.png", "log.jsonl", "last.ckpt"):  # fmt: skip
        assert (out / name).is_file(), name
    (record,) = _log(out)
    assert record["stage"] == "train" and record["train_loss"] > 0


@pytest.mark.slow
def test_pretrain_resume_under_ddp(ddp_run, tmp_path):
    import shutil

    out = tmp_path / "resumed"
    shutil.copytree(ddp_run[0], out)
    proc = _cli(*PRETRAIN, "--epochs", "2", "--out", str(out), "--resume", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [(r["epoch"], r["step"]) for r in _log(out)] == [(0, 2), (1, 4)]
    assert json.loads((out / "config.json").read_text())["epoch"] == 1
