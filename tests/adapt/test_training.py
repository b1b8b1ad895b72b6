"""Training mechanics: the run folder's files, few-shot budgets, seeding, kill -9 + resume,
and the run folder as a classifier and as a ``ckpt:`` encoder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from reprlearn.adapt.finetune import finetune
from reprlearn.errors import ReprlearnError

FAST = {"epochs": 3, "batch_size": 32, "precision": "fp32", "progress": False, "lr": 1e-2,
        "min_steps": 0, "lp_epochs": 3}  # fmt: skip


def test_run_folder_files_and_metrics(tmp_path):
    r = finetune("digits", "pca:16", out=tmp_path / "ft", **FAST)
    for name in ("config.json", "head.safetensors", "log.jsonl", "curves.png", "confusion.png",
                 "results.json", "last.ckpt", "encoder/state.npz"):  # fmt: skip
        assert (r.out / name).is_file(), name
    assert not list(r.out.rglob("*.pkl")) and not list(r.out.rglob("*.pt"))
    assert not (r.out / "checkpoints").exists()  # only our last.ckpt, no Lightning extras
    assert r.n_test == 360 and r.n_train + r.n_val == 1437 and r.n_val == 144
    assert len(r.history) == 3 and {"train_loss", "val_acc", "lr"} <= set(r.history[0])
    assert r.accuracy.value > 0.85 and r.accuracy.ci_low < r.accuracy.value < r.accuracy.ci_high
    assert 0 < r.macro_f1.ci_low <= r.macro_f1.value <= r.macro_f1.ci_high
    saved = json.loads((r.out / "results.json").read_text())
    assert saved["accuracy"]["value"] == r.accuracy.value
    with pytest.raises(ReprlearnError, match="already holds a run"):
        finetune("digits", "pca:16", out=tmp_path / "ft", **FAST)


def test_labels_per_class_keeps_the_test_split_and_seed_repeats(tmp_path):
    few = finetune("digits", "pca:16", out=tmp_path / "few", labels_per_class=5,
                   **{**FAST, "min_steps": 40, "lr": 0.03})  # fmt: skip
    assert few.n_train == 50 and few.n_val == 0 and few.n_test == 360
    assert len(few.history) == 20  # 2 steps per epoch: min_steps=40 gives 20 epochs, not 3
    assert few.accuracy.value > 0.5
    again = finetune("digits", "pca:16", out=tmp_path / "again", labels_per_class=5,
                     **{**FAST, "min_steps": 40, "lr": 0.03})  # fmt: skip
    assert np.array_equal(few.y_test, again.y_test) and np.array_equal(few.y_pred, again.y_pred)
    full = finetune("digits", "pca:16", out=tmp_path / "all", **FAST)
    assert np.array_equal(few.y_test, full.y_test)  # same test items for every budget


def test_run_loads_as_classifier_and_as_encoder(tmp_path, tiny_ckpt):
    import reprlearn
    from reprlearn.embed import encode_items

    r = finetune("digits", f"ckpt:{tiny_ckpt}", strategy="full", out=tmp_path / "ft", **FAST)
    clf = reprlearn.load_classifier(r.out)
    ds = reprlearn.load_dataset("digits")
    images = ds.select(range(40))["image"]
    proba = clf.predict_proba(images, precision="fp32")
    assert proba.shape == (40, 10) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert clf.predict(images[:3], precision="fp32") == [
        clf.label_names[i] for i in proba[:3].argmax(1)
    ]
    adapted = encode_items(f"ckpt:{r.out}", images, precision="fp32")
    original = encode_items(f"ckpt:{tiny_ckpt}", images, precision="fp32")
    assert adapted.shape == original.shape and not np.allclose(adapted, original)


def test_pretrain_run_is_not_a_classifier(tiny_ckpt):
    import reprlearn
    from reprlearn.errors import StoreError

    with pytest.raises(StoreError, match="is not a classifier"):
        reprlearn.load_classifier(tiny_ckpt)


def _records(path):
    if not path.is_file():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_finishes(tmp_path, tiny_ckpt):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "reprlearn.cli", "finetune", "digits", "--encoder",
           f"ckpt:{tiny_ckpt}", "--strategy", "full", "--epochs", "6", "--patience", "0",
           "--batch-size", "16", "--precision", "fp32", "--out", str(out), "--json"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while len(_records(out / "log.jsonl")) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)  # into the next epoch
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(_records(out / "log.jsonl"))
    assert 2 <= done < 6 and (out / "last.ckpt").is_file()
    with pytest.raises(subprocess.CalledProcessError):  # refuses to start over silently
        subprocess.run(cmd, env=env, check=True, capture_output=True)
    subprocess.run([*cmd, "--resume"], env=env, check=True, capture_output=True)
    records = _records(out / "log.jsonl")
    assert [r["epoch"] for r in records] == list(range(6))  # each epoch once, none lost
    result = json.loads((out / "results.json").read_text())
    assert result["accuracy"]["value"] > 0.3


def test_lightning_chatter_stays_out_of_the_output(tmp_path, tiny_ckpt):
    """Lightning's banners, tips and deprecation warnings are not for a reprlearn user."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "reprlearn.cli", "finetune", "digits", "--encoder",
           f"ckpt:{tiny_ckpt}", "--strategy", "full", "--epochs", "1", "--min-steps", "0",
           "--out", str(tmp_path / "ft")]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for chatter in ("GPU available", "Tip:", "Loading `train_dataloader`"):
        assert chatter not in done.stdout + done.stderr, chatter
