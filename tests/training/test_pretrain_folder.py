"""The ``pretrain`` run folder under faults (issue 14): a real ``kill -9`` then ``--resume``
equals an uninterrupted run; unfinished and finished runs are refused without
``--resume``/``--overwrite``; ``--overwrite`` deletes only run folders; numbers and method
options are checked before any work; unsafe checkpoints are refused; Ctrl-C keeps the
last epoch; Lightning's chatter stays out of the output; integer epoch ticks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import lightning as L
import pytest
import torch
from safetensors.torch import load_file

from reprlearn.errors import ReprlearnError, StoreError
from reprlearn.outdir import OutputError
from reprlearn.training.data import load_image_data
from reprlearn.training.pretrain import pretrain

SMALL = {"proj_hidden": 64, "proj_out": 32}
# the CLI equivalent of _run(..., epochs=3): same data, seed, model and optimiser
CLI_ARGS = ["pretrain", "digits", "--method", "simclr", "--backbone", "mlp", "--epochs", "3",
            "--batch-size", "64", "--max-items", "400", "--precision", "fp32",
            "--set", "proj_hidden=64", "--set", "proj_out=32"]  # fmt: skip


@pytest.fixture(scope="module")
def data():
    return load_image_data("digits", max_items=400, seed=0)


def _run(out, data, **kw):
    args = dict(method="simclr", backbone="mlp", epochs=2, batch_size=64, precision="fp32",
                progress=False, method_options=SMALL, data=data, seed=0, max_items=400)  # fmt: skip
    args.update(kw)
    return pretrain("digits", out=out, **args)


class StopAfterFirstEpoch(L.Callback):
    def on_train_epoch_end(self, trainer, pl_module):
        trainer.should_stop = True


class CtrlCInSecondEpoch(L.Callback):
    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch == 1:
            raise KeyboardInterrupt


def _cli(out):
    return [sys.executable, "-m", "reprlearn.cli", *CLI_ARGS, "--out", str(out)]


def _popen(out, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # as the in-process runs (conftest)
    return subprocess.Popen(_cli(out), env=env, **kw)


def _wait_for(path, proc, seconds=180):
    deadline = time.time() + seconds
    while not path.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)


def test_kill_9_after_an_epoch_then_resume_equals_uninterrupted(tmp_path, data):
    """A real SIGKILL of `reprlearn pretrain` once epoch 0's checkpoint exists; --resume
    finishes with the weights of an uninterrupted 3-epoch run (was: nothing to resume)."""
    out = tmp_path / "killed"
    proc = _popen(out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(out / "last.ckpt", proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / "last.ckpt").is_file(), "the checkpoint is written at every epoch end"
    assert not (out / "config.json").exists(), "the kill must land before the run finished"
    with pytest.raises(ReprlearnError, match="pass --resume to continue it, or --overwrite"):
        _run(out, data, epochs=3)
    resumed = _run(out, data, epochs=3, resume=True)
    _run(tmp_path / "full", data, epochs=3)
    assert [r["epoch"] for r in resumed.history] == [0, 1, 2]
    a = load_file(tmp_path / "full" / "method.safetensors")
    b = load_file(out / "method.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=0, atol=1e-5, msg=key)
    assert not (out / ".lock").exists()  # the killed writer's stale lock was taken over


def test_unfinished_and_finished_runs_need_resume_or_overwrite(tmp_path, data):
    out = tmp_path / "run"
    part = _run(out, data, callbacks=[StopAfterFirstEpoch()])
    assert [r["epoch"] for r in part.history] == [0]
    assert (out / "last.ckpt").is_file() and not (out / "config.json").exists()
    with pytest.raises(StoreError, match="unfinished.*--resume"):
        from reprlearn.training.checkpoint import load_run

        load_run(out)  # ckpt: of an unfinished run says how to finish it
    with pytest.raises(ReprlearnError, match="unfinished run: pass --resume to continue it, or "
                       "--overwrite to start afresh"):  # fmt: skip
        _run(out, data)
    with pytest.raises(ReprlearnError, match=r"--batch-size 32 \(the run used 64\)"):
        _run(out, data, batch_size=32, resume=True)  # was: silently another run
    with pytest.raises(ReprlearnError, match=r"--method 'byol' \(the run used 'simclr'\)"):
        _run(out, data, method="byol", resume=True)  # was: a state_dict traceback
    (out / "settings.json").unlink()  # a run from before settings.json
    with pytest.raises(ReprlearnError, match="does not fit the model these options build"):
        _run(out, data, method="byol", resume=True)
    fresh = _run(out, data, overwrite=True)  # starts afresh
    assert [r["epoch"] for r in fresh.history] == [0, 1] and (out / "config.json").is_file()
    with pytest.raises(ReprlearnError, match="finished run: pass --overwrite"):
        _run(out, data)
    with pytest.raises(ReprlearnError, match="already finished its 2 epochs"):
        _run(out, data, resume=True)
    longer = _run(out, data, epochs=3, resume=True)  # a finished run trains on
    assert [r["epoch"] for r in longer.history] == [0, 1, 2]
    assert json.loads((out / "config.json").read_text())["epoch"] == 2
    with pytest.raises(ReprlearnError, match="pass only one"):
        _run(out, data, resume=True, overwrite=True)
    with pytest.raises(ReprlearnError, match="nothing to resume"):
        _run(tmp_path / "new", data, resume=True)


def test_overwrite_never_deletes_a_foreign_folder_or_cwd(tmp_path, data, monkeypatch):
    notes = tmp_path / "mine" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("keep me")
    with pytest.raises(OutputError, match="did not write"):
        _run(notes.parent, data, overwrite=True)
    assert notes.read_text() == "keep me"
    run = tmp_path / "run"
    _run(run, data, epochs=1)
    monkeypatch.chdir(run)
    with pytest.raises(OutputError, match="working directory"):
        _run(".", data, epochs=1, overwrite=True)
    assert (run / "config.json").is_file()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("epochs", 0, "--epochs must be at least 1, got 0"),
     ("batch_size", -5, "--batch-size must be at least 1, got -5"),
     ("batch_size", 0, "--batch-size must be at least 1"),
     ("lr", 0.0, "--lr must be greater than 0"), ("lr", -1.0, "--lr must be greater than 0"),
     ("max_items", 0, "--max-items must be at least 2"),
     ("backbone", "resnet", "--backbone: unknown value 'resnet'; choose one of small_cnn"),
     ("optimizer", "adam", "--optimizer: unknown value 'adam'; choose one of adamw, sgd"),
     ("recipe", "simclr2", "--recipe: unknown value 'simclr2'"),
     ("precision", "fp64", "--precision: unknown value 'fp64'"),
     ("devices", 0, "--devices must be at least 1")],
)  # fmt: skip
def test_numbers_are_checked_before_any_work(tmp_path, option, value, message):
    with pytest.raises(ReprlearnError, match=message):
        pretrain("digits", out=tmp_path / "r", **{option: value})
    assert not (tmp_path / "r").exists()


def test_method_options_are_checked_by_name_and_type(tmp_path):
    from reprlearn.training.methods import get_method
    from reprlearn.training.options import check_method_options

    simclr = get_method("simclr")
    assert check_method_options(simclr, {"temperature": 1, "proj_hidden": None}) == {
        "temperature": 1.0, "proj_hidden": None}  # fmt: skip
    with pytest.raises(ReprlearnError, match="--set temperature expects a float, got 'abc'"):
        check_method_options(simclr, {"temperature": "abc"}, "--set")
    with pytest.raises(ReprlearnError, match="proj_out expects an integer, got 1.5"):
        check_method_options(simclr, {"proj_out": 1.5})
    with pytest.raises(ReprlearnError, match="predictor expects true or false"):
        check_method_options(get_method("byol"), {"predictor": "yes"})
    with pytest.raises(ReprlearnError, match="proj_hidden, proj_out, temperature, init"):
        pretrain("digits", out=tmp_path / "r", method_options={"temprature": 0.1})
    assert not (tmp_path / "r").exists()


class _Payload:
    """Pickles to a call of os.makedirs: what torch.load(weights_only=False) would run."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.makedirs, (self.path,))


def test_resume_refuses_a_pickled_checkpoint(tmp_path, data):
    from reprlearn.outdir import prepare_out_dir

    out = prepare_out_dir(tmp_path / "run", kind="run")
    torch.save({"state_dict": {}, "epoch": 0, "x": _Payload(str(tmp_path / "pwned"))},
               out / "last.ckpt")  # fmt: skip
    with pytest.raises(StoreError, match="unsafe to load: it contains pickled Python objects "
                       "beyond tensors") as e:  # fmt: skip
        _run(out, data, resume=True)
    assert "makedirs" in str(e.value) and not (tmp_path / "pwned").exists()
    (out / "last.ckpt").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(StoreError, match="not a readable checkpoint"):
        _run(out, data, resume=True)


def test_ctrl_c_keeps_the_last_epoch_and_lightning_stays_quiet(tmp_path, data, capfd):
    out = tmp_path / "run"
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):  # not Lightning's SystemExit(1)
        _run(out, data, epochs=3, callbacks=[CtrlCInSecondEpoch()])
    assert signal.getsignal(signal.SIGINT) is handler  # Lightning had set SIG_IGN
    assert (out / "last.ckpt").is_file() and not (out / ".lock").exists()
    _run(out, data, epochs=3, resume=True)
    printed = capfd.readouterr()
    text = printed.out + printed.err
    for chatter in ("Tip", "litlogger", "GPU available", "TPU available", "deprecated",
                    "estimate number of stepping batches", "`Trainer.fit` stopped"):  # fmt: skip
        assert chatter not in text, chatter


@pytest.mark.slow  # a second CLI subprocess (~15 s on a busy machine)
def test_real_ctrl_c_prints_the_resume_hint(tmp_path):
    out = tmp_path / "run"
    proc = _popen(out, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(out / "last.ckpt", proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted; rerun the same command with --resume to continue" in stderr
    assert "Traceback" not in stderr and "Tip" not in stdout + stderr


def test_curves_have_integer_epoch_ticks():
    from reprlearn.training.curves import curves_figure

    records = [{"epoch": e, "loss": 4 - e / 3, "knn_top1": 0.5 + e / 10, "effective_rank": 9.0}
               for e in range(3)]  # fmt: skip
    fig = curves_figure(records)
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
