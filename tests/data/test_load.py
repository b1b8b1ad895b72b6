"""Data sources -> datasets.Dataset, on the real files and on constructed bad input."""

from __future__ import annotations

import io

import datasets
import pytest
from PIL import Image

from reprlearn.data import load_dataset, source_spec
from reprlearn.errors import DataError


def test_digits_are_8x8_grayscale_with_10_classes():
    ds = load_dataset("digits")
    assert ds.num_rows == 1797
    assert ds.features["label"].num_classes == 10
    img = ds[0]["image"]
    assert img.size == (8, 8) and img.mode == "L"
    assert source_spec(ds) == {"source": "digits"}


@pytest.mark.parametrize(
    ("folder", "rows", "names"),
    [
        ("MR", 10662, ["neg", "pos"]),
        ("CR", 3775, ["neg", "pos"]),
        ("SUBJ", 10000, ["objective", "subjective"]),
        ("MPQA", 10606, ["neg", "pos"]),
    ],
)
def test_senteval_class_files(shared_data, folder, rows, names):
    ds = load_dataset(str(shared_data / "senteval" / folder))
    assert ds.num_rows == rows
    assert ds.features["label"].names == names
    assert all(isinstance(t, str) and t for t in ds["text"][:50])


def test_trec_coarse_and_fine_labels_in_latin1(shared_data):
    ds = load_dataset(str(shared_data / "senteval" / "TREC"))
    assert ds.num_rows == 5452
    assert ds.features["label"].names == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    test = load_dataset(str(shared_data / "senteval" / "TREC"), split="test", fine_labels=True)
    assert test.num_rows == 500 and test.features["label"].num_classes > 6
    assert test[0]["text"] == "How far is it from Denver to Aspen ?"


def test_trec_as_utf8_names_file_offset_and_fix(shared_data):
    with pytest.raises(
        DataError, match=r"train_5500.label: not valid utf-8 at byte offset 3665.*--encoding"
    ):
        load_dataset(str(shared_data / "senteval" / "TREC" / "train_5500.label"), encoding="utf-8")


def test_sst2_splits(shared_data):
    folder = str(shared_data / "senteval" / "SST2")
    assert load_dataset(folder, split="dev").num_rows == 872
    test = load_dataset(folder, split="test")
    assert test.num_rows == 1821 and test.features["label"].names == ["negative", "positive"]


def test_cifar10_by_name_has_class_names(shared_data):
    ds = load_dataset("cifar10", data_dir=str(shared_data))
    assert ds.num_rows == 10000
    assert ds.features["label"].names[:3] == ["airplane", "automobile", "bird"]
    assert ds[0]["image"].size == (32, 32)


def test_missing_named_dataset_says_where_it_looked(tmp_path):
    with pytest.raises(DataError, match="--data-dir"):
        load_dataset("cifar10", data_dir=str(tmp_path))


def test_csv_with_columns_and_missing_column(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("review,stars\ngreat phone,5\nbroke in a day,1\nfine,3\n")
    ds = load_dataset(str(path), text_column="review", label_column="stars")
    assert ds["text"] == ["great phone", "broke in a day", "fine"]
    assert ds.features["label"].names == ["1", "3", "5"]
    with pytest.raises(DataError, match=r"no column 'body'.*\['review', 'stars'\]"):
        load_dataset(str(path), text_column="body")


def test_jsonl_and_txt(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        '{"text": "one", "label": "x"}\n{"text": "two", "label": "y"}\n'
    )
    assert load_dataset(str(tmp_path / "a.jsonl")).features["label"].names == ["x", "y"]
    (tmp_path / "b.txt").write_text("first line\nsecond line\n")
    ds = load_dataset(str(tmp_path / "b.txt"))
    assert ds["text"] == ["first line", "second line"] and "label" not in ds.column_names


def test_image_folder(tmp_path):
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.new("RGB", (16, 16), (i * 40, 0, 0)).save(tmp_path / cls / f"{i}.png")
    ds = load_dataset(str(tmp_path))
    assert ds.num_rows == 6 and ds.features["label"].names == ["cat", "dog"]


def test_unknown_source_is_a_clear_error():
    with pytest.raises(DataError, match="no such file or folder"):
        load_dataset("no/such/place")


def test_hub_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)  # read at import time
    with pytest.raises(DataError, match="needs network access"):
        load_dataset("hf:surely/not-a-cached-dataset")


def test_image_parquet_hub_layout(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 255, 0)).save(buf, format="PNG")
    table = datasets.Dataset.from_dict(
        {"image": [{"bytes": buf.getvalue(), "path": "green/0.png"}], "label": [0]}
    )
    table.to_parquet(str(tmp_path / "x.parquet"))
    ds = load_dataset(str(tmp_path / "x.parquet"))
    assert ds.features["label"].names == ["green"]
    assert ds[0]["image"].getpixel((0, 0)) == (0, 255, 0)
