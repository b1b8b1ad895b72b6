"""Text encodings: BOMs decide, unknown codecs and UTF-16 without BOM get a clear fix."""

from __future__ import annotations

import pytest

from reprlearn.data import load_dataset
from reprlearn.data.encoding import check_encoding, read_text
from reprlearn.errors import DataError


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_text_with_bom_is_read(tmp_path, codec):
    path = tmp_path / "u.txt"
    bom = {"utf-16-be": b"\xfe\xff"}.get(codec, b"")
    path.write_bytes(bom + "héllo\nwörld\n".encode(codec))
    ds = load_dataset(str(path))  # was: not valid utf-8 ... try --encoding latin-1
    assert ds["text"] == ["héllo", "wörld"]


def test_utf16_csv_with_bom_is_read(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("text,label\nhéllo,x\nwörld,y\n", encoding="utf-16")
    ds = load_dataset(str(path))
    assert ds["text"] == ["héllo", "wörld"] and ds.features["label"].names == ["x", "y"]


def test_utf16_jsonl_with_bom_is_read(tmp_path):
    path = tmp_path / "u.jsonl"
    path.write_text('{"text": "héllo", "label": "x"}\n', encoding="utf-16")
    assert load_dataset(str(path))["text"] == ["héllo"]


def test_utf8_bom_is_not_part_of_the_first_column_name(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("text,label\nhéllo,x\n".encode("utf-8-sig"))
    assert load_dataset(str(path))["text"] == ["héllo"]  # was: no column 'text' ('\ufefftext')
    assert load_dataset(str(path), encoding="utf-8")["text"] == ["héllo"]


def test_utf16_without_bom_suggests_utf16_not_latin1(tmp_path):
    path = tmp_path / "u.txt"
    path.write_bytes("hello there\nsecond line\n".encode("utf-16-le"))
    with pytest.raises(
        DataError, match="looks like UTF-16 without a byte-order mark: pass --encoding utf-16-le"
    ) as e:
        read_text(path, "utf-8")
    assert "latin-1" not in str(e.value)
    with pytest.raises(DataError, match="u.txt: not utf-8 text.*--encoding utf-16-le"):
        load_dataset(str(path))  # was read silently as texts with a NUL after every letter
    path.write_bytes("é\n".encode("utf-16-be") * 20)
    with pytest.raises(DataError, match="--encoding utf-16-be"):
        load_dataset(str(path))
    assert load_dataset(str(path), encoding="utf-16-be")["text"][0] == "é"


def test_utf16_file_read_with_explicit_utf16(tmp_path):
    path = tmp_path / "u.txt"
    path.write_text("a\nb\n", encoding="utf-16")
    assert load_dataset(str(path), encoding="utf-16")["text"] == ["a", "b"]


def test_unknown_encoding_lists_valid_codecs(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("a\n")
    with pytest.raises(
        DataError, match=r"--encoding 'klingon': unknown text encoding.*utf-8.*latin-1"
    ):
        load_dataset(str(path), encoding="klingon")  # was LookupError traceback
    assert check_encoding("UTF8") == "utf-8"


def test_latin1_file_still_suggests_an_encoding(tmp_path):
    path = tmp_path / "l.txt"
    path.write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(
        DataError, match=r"l.txt: not valid utf-8 at byte offset 3.*--encoding latin-1"
    ):
        load_dataset(str(path))
    assert load_dataset(str(path), encoding="latin-1")["text"] == ["café"]


def test_trec_file_saved_as_utf16_is_read_by_its_bom(tmp_path):
    path = tmp_path / "q.label"
    path.write_text("LOC:city Where is Zürich ?\nNUM:date When ?\n", encoding="utf-16")
    ds = load_dataset(str(path))  # latin-1 decoded every byte: garbage with NULs, silently
    assert ds["text"] == ["Where is Zürich ?", "When ?"]
    assert ds.features["label"].names == ["LOC", "NUM"]


def test_utf16_read_as_latin1_is_refused(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("hello\nworld\n", encoding="utf-16")
    with pytest.raises(
        DataError, match="iso8859-1 contradicts the file's utf-16 byte-order mark; drop --encoding"
    ):
        load_dataset(str(path), encoding="latin-1")


def test_utf8_bom_with_latin1_is_refused_and_utf16_variants_use_the_bom(tmp_path):
    path = tmp_path / "b.txt"
    path.write_bytes("café\n".encode("utf-8-sig"))
    with pytest.raises(DataError, match="contradicts the file's utf-8-sig byte-order mark"):
        load_dataset(str(path), encoding="latin-1")  # was "ï»¿cafÃ©", silently
    path.write_text("café\n", encoding="utf-16")
    assert load_dataset(str(path), encoding="utf-16-be")["text"] == ["café"]


def test_utf16_csv_with_bom_and_explicit_byte_order(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("text,label\nhéllo,x\n", encoding="utf-16")
    ds = load_dataset(str(path), encoding="utf-16-le")  # the BOM is not part of 'text'
    assert ds["text"] == ["héllo"]
