"""The CLI on bad data: one error line naming the file/row/option and the fix, exit 2."""

from __future__ import annotations

import re
import sys

import pytest

from reprlearn.cli import main


def _run(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["reprlearn", *args])
    with pytest.raises(SystemExit) as e:
        main()
    out = capsys.readouterr()
    return e.value.code, re.sub(r"\s+", " ", out.err + out.out)


@pytest.fixture
def texts(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("one text\nanother text\n")
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--encoding", "klingon"], r"--encoding 'klingon': unknown text encoding.*utf-8"),
        (["--format", "xlsx"], r"unknown --format 'xlsx'"),
        (["--label-column", "category"], r"--label-column category applies to tables"),
        (["--device", "gpu0"], r"--device 'gpu0' is not a device name.*cpu"),
    ],
)
def test_embed_bad_options_are_one_clear_error(
    monkeypatch, capsys, tmp_path, texts, extra, message
):
    code, err = _run(
        monkeypatch, capsys, "embed", str(texts), "-e", "tfidf", "-o", str(tmp_path / "s"), *extra
    )
    assert code == 2
    assert "Traceback" not in err and re.search(message, err), err


def test_embed_broken_jsonl_names_the_line(monkeypatch, capsys, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "a"}\n{"text": \n')
    code, err = _run(
        monkeypatch, capsys, "embed", str(path), "-e", "tfidf", "-o", str(tmp_path / "s")
    )
    assert code == 2 and "a.jsonl:2: not valid JSON" in err and "Traceback" not in err


def test_embed_tsv_without_extension_with_format(monkeypatch, capsys, tmp_path):
    path = tmp_path / "data"
    path.write_text("text\tlabel\nthe cat sat\ta\nthe dog sat\tb\nthe cat ran\ta\n")
    code, err = _run(
        monkeypatch, capsys, "embed", str(path), "--format", "tsv", "-e", "tfidf",
        "-o", str(tmp_path / "s"), "--json",
    )  # fmt: skip
    assert code in (0, None), err
