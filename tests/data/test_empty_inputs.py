"""Empty inputs and texts: messages that name the source and say what is missing."""

from __future__ import annotations

import pytest

from reprlearn.data import load_dataset
from reprlearn.embed import embed
from reprlearn.encoders import load_encoder
from reprlearn.errors import DataError


def test_tfidf_on_texts_without_words_says_there_are_no_words(tmp_path):
    enc = load_encoder("tfidf")
    with pytest.raises(DataError, match=r"tfidf: the 3 texts have no words"):
        enc.fit(["!!!", "?", "..."])  # was sklearn's "empty vocabulary; perhaps ..."


def test_tfidf_on_too_few_texts_says_why(tmp_path):
    enc = load_encoder("tfidf")
    with pytest.raises(DataError, match="at least 2 texts"):
        enc.fit(["only one text here"])


def test_empty_file_with_tfidf_names_the_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("")
    with pytest.raises(DataError, match=r"empty.txt: no items \(the file is empty\)"):
        embed(load_dataset(str(path)), "tfidf", tmp_path / "store")


def test_empty_text_in_a_csv_names_file_and_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,label\nfine text,a\n,b\nmore text,a\n")
    ds = load_dataset(str(path))
    with pytest.raises(DataError, match=r"row 1 \(.*t.csv:3\).*--on-error skip"):
        embed(ds, "tfidf", tmp_path / "store")


def test_empty_line_in_a_text_file_names_file_and_line(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("first text\n\nthird text\n")
    with pytest.raises(DataError, match=r"row 1 \(.*t.txt:2\): empty text"):
        embed(load_dataset(str(path)), "tfidf", tmp_path / "store")


def test_tfidf_without_words_names_the_source(tmp_path):
    path = tmp_path / "punct.txt"
    path.write_text("!!!\n???\n...\n")
    with pytest.raises(DataError, match=r"punct.txt: tfidf: the 3 texts have no words"):
        embed(load_dataset(str(path)), "tfidf", tmp_path / "store")
