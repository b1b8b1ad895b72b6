"""CLI-wide messages (issue 14, issue 15 item 11): user strings printed verbatim (no rich
emoji codes or markup eaten), Ctrl-C as one line with exit code 130, and tables never
cut when output is piped."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time

import numpy as np


def test_emoji_codes_in_names_are_printed_as_given(run_main, tmp_path, capsys, monkeypatch):
    # before: "pca:abc: the dimension ..." printed as "pca🔤 the dimension ..."
    code, _, err = run_main(["embed", "digits", "-e", "pca:abc", "-o", str(tmp_path / "s")],
                            capsys, monkeypatch)  # fmt: skip
    assert code == 2
    assert "pca:abc" in err and "\N{INPUT SYMBOL FOR LATIN LETTERS}" not in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_long_error_stays_on_one_line(run_main, tmp_path, capsys, monkeypatch):
    # before: the console wrapped error messages at 80 columns when piped
    name = "pca:" + "x" * 300
    code, _, err = run_main(["embed", "digits", "-e", name, "-o", str(tmp_path / "s")],
                            capsys, monkeypatch)  # fmt: skip
    assert code == 2 and name in err and len(err.strip().splitlines()) == 1


def test_markup_in_labels_and_paths_is_printed_as_given(run_main, tmp_path, capsys, monkeypatch):
    from reprlearn.store import StoreWriter

    # labels that look like rich markup: "[/x]" used to crash, "[bold]" vanished
    names = ["[/x]", "[bold]b", ":abc:"]
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 10)
    X = (rng.normal(size=(30, 8)) + 3 * np.eye(8)[y]).astype(np.float32)
    header = {"encoder_name": "pixels", "dim": 8, "label_names": names,
              "source": {"spec": None, "fingerprint": "t", "num_rows": 30},
              "normalized": False, "precision": "fp32", "shard_size": 30}  # fmt: skip
    writer = StoreWriter(tmp_path / "store", header)
    writer.write_shard(0, np.arange(30), X, y, [])
    writer.finish({})
    out = tmp_path / "out[/y]"
    code, stdout, err = run_main(["inspect", str(tmp_path / "store"), "-o", str(out),
                                  "--sample", "6"], capsys, monkeypatch)  # fmt: skip
    assert code == 0, err
    for name in names:
        assert name in stdout
    assert "out[/y]" in stdout


def test_ctrl_c_prints_one_line_and_exits_130(run_main, tmp_path, capsys, monkeypatch):
    inspect_module = importlib.import_module("reprlearn.analysis.inspect")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(inspect_module, "inspect", interrupted)
    code, _, err = run_main(["inspect", str(tmp_path), "-o", str(tmp_path / "o")],
                            capsys, monkeypatch)  # fmt: skip
    assert code == 130
    assert err.strip() == "error: interrupted; rerun the same command to resume"


def test_real_sigint_in_a_subprocess(tmp_path):
    # a real Ctrl-C (SIGINT) while a command runs: the message, exit 130, no traceback
    script = (
        "import sys, time\n"
        "import importlib\n"
        "m = importlib.import_module('reprlearn.analysis.inspect')\n"
        "def slow(*a, **k):\n"
        "    print('ready', flush=True); time.sleep(60)\n"
        "m.inspect = slow\n"
        "from reprlearn.cli import main\n"
        f"sys.argv = ['reprlearn', 'inspect', {str(tmp_path)!r}, '-o', {str(tmp_path / 'o')!r}]\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "REPRLEARN_DEBUG"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted; rerun the same command to resume" in err
    assert "Traceback" not in err


def test_piped_encoders_table_keeps_every_column_whole():
    # before: piped output was 80 columns wide and the examples were cut to "timm:resnet5…"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    done = subprocess.run([sys.executable, "-m", "reprlearn.cli", "encoders"],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for example in ("timm:resnet50.a1_in1k", "open_clip:ViT-B-32/laion2b_s34b_b79k",
                    "torchvision:resnet50/IMAGENET1K_V2", "st:sentence-transformers/all-MiniLM-L6-v2"):  # fmt: skip
        assert example in done.stdout
    assert "\u2026" not in done.stdout  # nothing cut with an ellipsis
