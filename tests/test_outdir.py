"""Output folders: only reprlearn's own folders are replaced; one writer at a time."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from reprlearn.outdir import MARKER, OutputError, folder_kind, prepare_out_dir, writer_lock


def test_overwrite_refuses_a_folder_reprlearn_did_not_write(tmp_path):
    foreign = tmp_path / "w"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="did not write"):
        prepare_out_dir(foreign, kind="store", overwrite=True)
    assert (foreign / "notes.txt").read_text() == "mine"


def test_overwrite_never_deletes_the_working_directory(tmp_path, monkeypatch):
    out = prepare_out_dir(tmp_path / "s", kind="store")
    (out / "manifest.json").write_text("{}")
    monkeypatch.chdir(out)
    with pytest.raises(OutputError, match="working directory"):
        prepare_out_dir(".", kind="store", overwrite=True)
    (out / "data").mkdir()
    monkeypatch.chdir(out / "data")
    with pytest.raises(OutputError, match="working directory"):
        prepare_out_dir(out, kind="store", overwrite=True)
    assert (out / "manifest.json").is_file()


def test_overwrite_replaces_own_folder_of_same_kind_only(tmp_path):
    out = prepare_out_dir(tmp_path / "r", kind="report")
    (out / "results.json").write_text("{}")
    with pytest.raises(OutputError, match="not a store"):
        prepare_out_dir(out, kind="store", overwrite=True)
    prepare_out_dir(out, kind="report", overwrite=True)
    assert not (out / "results.json").exists()
    assert folder_kind(out) == "report"
    assert json.loads((out / MARKER).read_text())["kind"] == "report"


def test_legacy_store_is_recognised(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "manifest.json").write_text("{}")
    assert folder_kind(tmp_path / "old") == "store"


def test_second_writer_is_refused_and_stale_lock_taken_over(tmp_path):
    out = tmp_path / "s"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from reprlearn.outdir import writer_lock\n"
            f"with writer_lock({str(out)!r}):\n print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(OutputError, match=f"pid {child.pid}"), writer_lock(out):
            pass
    finally:
        child.kill()
        child.wait()
    # the killed writer left a stale lock: taken over, then released
    assert (out / ".lock").exists()
    with writer_lock(out):
        assert json.loads((out / ".lock").read_text())["pid"] == os.getpid()
    assert not (out / ".lock").exists()


def test_lock_holder_is_the_live_writer_only(tmp_path):
    from reprlearn.outdir import LOCK, lock_holder

    out = tmp_path / "s"
    assert lock_holder(out) is None
    with writer_lock(out):
        assert lock_holder(out)["pid"] == os.getpid()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    held = {"pid": int(dead), "host": socket.gethostname()}
    (out / LOCK).write_text(json.dumps(held))
    assert lock_holder(out) is None  # its process is gone: stale
