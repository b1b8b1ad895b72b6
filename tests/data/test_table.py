"""Tables and text files under bad input: one DataError naming the file, line and fix."""

from __future__ import annotations

import re

import datasets
import numpy as np
import pytest

from reprlearn.data import load_dataset, require_labels
from reprlearn.errors import DataError


def test_jsonl_with_a_broken_line_names_the_line(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{"text": "b", "label": \n{"text": "c"}\n')
    with pytest.raises(DataError, match=r"a.jsonl:2: not valid JSON.*one JSON object"):
        load_dataset(str(path))


def test_jsonl_line_that_is_not_an_object(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "a"}\n["b"]\n')
    with pytest.raises(DataError, match=r"a.jsonl:2: expected a JSON object"):
        load_dataset(str(path))


def test_jsonl_rows_have_their_line_as_origin(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n\n{"text": "b", "label": "y"}\n')
    ds = load_dataset(str(path))
    assert ds["origin"] == [f"{path}:1", f"{path}:3"]


def test_tsv_with_a_ragged_row_names_the_row(tmp_path):
    path = tmp_path / "r.tsv"
    path.write_text("text\tlabel\ngood\tx\nbad\ty\textra\nfine\tz\n")
    with pytest.raises(DataError, match=r"r.tsv:3: row has 3 fields, the header has 2"):
        load_dataset(str(path))


def test_csv_row_with_too_few_fields_names_the_row(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,label\ngood,x\nno label here\n")
    with pytest.raises(DataError, match=r"r.csv:3: row has 1 fields"):
        load_dataset(str(path))


def test_format_csv_on_a_txt_file_reads_it_as_csv(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("text,label\nhello,a\nworld,b\n")
    ds = load_dataset(str(path), format="csv")  # was KeyError: '.txt'
    assert ds["text"] == ["hello", "world"]
    assert ds.features["label"].names == ["a", "b"]


def test_format_csv_on_a_plain_text_file_names_the_missing_column(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("hello\nworld\n")
    with pytest.raises(
        DataError, match=r"no column 'text'; columns are \['hello'\].*--text-column"
    ):
        load_dataset(str(path), format="csv")


@pytest.mark.parametrize(("fmt", "sep"), [("tsv", "\t"), ("csv", ",")])
def test_format_on_a_file_without_extension(tmp_path, fmt, sep):
    path = tmp_path / "data"
    path.write_text(f"text{sep}label\nhello{sep}a\nworld{sep}b\n")
    ds = load_dataset(str(path), format=fmt)  # was KeyError: ''
    assert ds["text"] == ["hello", "world"] and ds.features["label"].names == ["a", "b"]


def test_tab_separated_file_without_extension_is_detected_and_label_column_honoured(tmp_path):
    path = tmp_path / "intents"
    path.write_text("utterance\tcategory\nbook a flight\ttravel\nplay jazz\tmusic\n")
    ds = load_dataset(str(path), text_column="utterance", label_column="category")
    assert ds["text"] == ["book a flight", "play jazz"]
    assert ds.features["label"].names == ["music", "travel"]


def test_label_column_on_a_source_that_is_no_table_is_an_error(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("one text\nanother text\n")
    with pytest.raises(DataError, match=r"--label-column category applies to tables.*--format"):
        load_dataset(str(path), label_column="category")
    with pytest.raises(DataError, match="--label-column"):
        load_dataset("digits", label_column="target")


def test_header_only_csv_says_there_are_no_rows(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("text,label\n")
    # datasets says: Instruction "train" corresponds to no data!
    with pytest.raises(DataError, match=r"h.csv: only a header line \(text, label\), no rows"):
        load_dataset(str(path))


@pytest.mark.parametrize("name", ["e.csv", "e.tsv", "e.jsonl", "e.txt"])
def test_empty_file_is_named(tmp_path, name):
    path = tmp_path / name
    path.write_text("")
    with pytest.raises(DataError, match=rf"{name}: .*empty"):
        load_dataset(str(path))


def test_csv_cells_are_read_as_text(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("text,label\n42,NA\n3.5,null\n")
    ds = load_dataset(str(path))
    assert ds["text"] == ["42", "3.5"]  # numbers were ints/floats: "expected text, got int"
    assert ds.features["label"].names == ["NA", "null"]  # were missing values


def test_csv_missing_label_names_file_line_and_row(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,label\na,1\nb,\nc,0\n")
    with pytest.raises(DataError, match=r"r.csv:3 \(row 1\) has no value in label column"):
        load_dataset(str(path))


def test_duplicate_header_column_is_named(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label,label\na,1,2\n")
    with pytest.raises(DataError, match="column 'label' appears twice"):
        load_dataset(str(path))


def test_label_column_mixing_numbers_and_strings(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"text": "a", "label": 1}\n{"text": "b", "label": "x"}\n')
    assert load_dataset(str(path)).features["label"].names == ["1", "x"]
    rows = "".join(f"t{i},{i % 3}\n" for i in range(12_000)) + "late,x\n"
    (tmp_path / "m.csv").write_text("text,label\n" + rows)  # a string after 10k numbers
    ds = load_dataset(str(tmp_path / "m.csv"))
    assert ds.features["label"].names == ["0", "1", "2", "x"]


def test_parquet_label_with_nan_names_the_row(tmp_path):
    path = tmp_path / "p.parquet"
    datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": [1.0, np.nan, 2.0]}).to_parquet(
        str(path)
    )
    with pytest.raises(DataError, match=r"row 1 has no value in label column 'label'"):
        load_dataset(str(path))  # was a silent class "nan"


def test_parquet_float_labels_are_whole_number_classes(tmp_path):
    path = tmp_path / "p.parquet"
    datasets.Dataset.from_dict({"text": ["a", "b"], "label": [1.0, 2.0]}).to_parquet(str(path))
    assert load_dataset(str(path)).features["label"].names == ["1", "2"]


def test_parquet_without_the_label_column_lists_columns(tmp_path):
    path = tmp_path / "p.parquet"
    datasets.Dataset.from_dict({"text": ["a"], "topic": ["x"]}).to_parquet(str(path))
    with pytest.raises(DataError, match=r"no column 'category'; columns are \['text', 'topic'\]"):
        load_dataset(str(path), label_column="category")


def test_not_a_parquet_file_is_named(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_text("text\nhello\n")
    with pytest.raises(DataError, match=r"x.parquet: not a readable Parquet file"):
        load_dataset(str(path))


def test_needs_labels_lists_the_table_columns_and_suggests_label_column(tmp_path):
    path = tmp_path / "intents.csv"
    path.write_text("text,category\nbook a flight,travel\nplay jazz,music\n")
    ds = load_dataset(str(path))
    with pytest.raises(
        DataError,
        match=r"has no labels \(compare needs labels\).*\['text', 'category'\].*--label-column category",
    ):
        require_labels(ds, str(path), "compare")
    require_labels(load_dataset(str(path), label_column="category"), str(path), "compare")


def test_needs_labels_on_a_text_file_says_where_labels_come_from(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("a\nb\n")
    with pytest.raises(
        DataError, match=r"has no labels \(compare needs labels\).*--label-column.*one subfolder"
    ):
        require_labels(load_dataset(str(path)), str(path), "compare")


def test_compare_without_labels_lists_the_columns(tmp_path):
    from reprlearn.report.compare import compare

    path = tmp_path / "intents.csv"
    path.write_text("text,category\nbook a flight,travel\nplay jazz,music\n")
    with pytest.raises(DataError, match=r"\['text', 'category'\].*--label-column category"):
        compare(str(path), ["tfidf"], out=tmp_path / "report")


def test_unknown_format_lists_the_formats(tmp_path):
    with pytest.raises(DataError, match="unknown --format 'xlsx'.*csv"):
        load_dataset("digits", format="xlsx")


def test_split_on_a_source_without_splits_is_an_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,label\na,x\n")
    with pytest.raises(DataError, match=r"--split test applies to sources with splits"):
        load_dataset(str(path), split="test")  # was silently ignored
    with pytest.raises(DataError, match="--split"):
        load_dataset("digits", split="train")


def test_text_and_label_columns_named_text_and_label_the_other_way_round(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("body,text\nhello,x\nworld,y\n")
    ds = load_dataset(str(path), text_column="body", label_column="text")  # was ValueError
    assert ds["text"] == ["hello", "world"] and ds.features["label"].names == ["x", "y"]
    path.write_text("text,label\nhello,x\n")
    with pytest.raises(DataError, match="both name 'text'"):
        load_dataset(str(path), label_column="text")  # was KeyError: exists 2 times
    assert "label" not in load_dataset(str(path), text_column="label").column_names


def test_semicolon_csv_from_a_european_spreadsheet(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("text;label\nbonjour, le monde;fr\nhallo welt;de\n")
    ds = load_dataset(str(path))  # was: no column 'text'; columns are ['text;label']
    assert ds["text"] == ["bonjour, le monde", "hallo welt"]
    assert ds.features["label"].names == ["de", "fr"]


def test_tsv_named_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text\tlabel\nhello, world\ta\n")
    assert load_dataset(str(path))["text"] == ["hello, world"]


@pytest.mark.parametrize(
    ("name", "data", "what"),
    [
        ("book.xlsx", b"PK\x03\x04rest", "ZIP archive"),
        ("data.csv.gz", b"\x1f\x8b\x08\x00rest", "gzip-compressed"),
        ("paper.pdf", b"%PDF-1.7 rest", "PDF document"),
        ("book.csv", b"PK\x03\x04rest", "ZIP archive"),
    ],
)
def test_binary_files_are_named_not_mis_decoded(tmp_path, name, data, what):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DataError, match=rf"{re.escape(name)}: .*{what}.*, not text or a table"):
        load_dataset(str(path))  # was: not valid utf-8 ... try --encoding latin-1


def test_folder_mixing_images_and_text_files_is_named(tmp_path):
    from PIL import Image

    Image.new("RGB", (4, 4)).save(tmp_path / "a.png")
    for name in ("notes.txt", "more.txt"):
        (tmp_path / name).write_text("some text\n")
    with pytest.raises(DataError, match=r"holds 1 images \(e.g. a.png\) and 2 other files"):
        load_dataset(str(tmp_path))  # was: a.png not valid utf-8


def test_a_single_pretty_printed_json_object_names_its_keys(tmp_path):
    path = tmp_path / "squad.json"
    path.write_text('{\n  "version": 2,\n  "data": [{"text": "a"}]\n}\n')
    with pytest.raises(DataError, match=r"one JSON object with keys \['version', 'data'\]"):
        load_dataset(str(path))


def test_hub_style_dataset_keeps_string_labels_and_chosen_columns(tmp_path):
    folder = tmp_path / "intents"
    folder.mkdir()
    (folder / "train.csv").write_text("utterance,intent\nbook a flight,travel\nplay jazz,music\n")
    ds = load_dataset(f"hf:{folder}", text_column="utterance", label_column="intent")
    assert ds["text"] == ["book a flight", "play jazz"]
    assert ds.features["label"].names == ["music", "travel"]  # were strings: dropped by embed
    with pytest.raises(
        DataError, match=r"columns are \['utterance', 'intent'\]. Pass --text-column"
    ):
        load_dataset(f"hf:{folder}")


def test_origin_is_the_line_a_multiline_row_starts_on(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text('text,label\n"first\nspans two lines",a\n\nsecond,b\nthird,c,extra\n')
    with pytest.raises(DataError, match=r"m.csv:6: row has 3 fields"):
        load_dataset(str(path))
    path.write_text('text,label\n"first\nspans two lines",a\n\nsecond,b\n')
    ds = load_dataset(str(path))
    assert ds["text"] == ["first\nspans two lines", "second"]
    assert ds["origin"] == [f"{path}:2", f"{path}:5"]  # was :3 (the row's last line)
