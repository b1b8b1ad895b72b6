"""Image folders (nested, flat, mixed) and high-bit-depth images keep labels and brightness."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from reprlearn.data import load_dataset
from reprlearn.data.items import decode_item, to_8bit
from reprlearn.errors import DataError


def _png(path, value=(200, 0, 0), size=8):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), value).save(path)


def test_nested_subfolders_take_the_first_level_folder_as_label(tmp_path):
    # cat/ holds images two levels deep, dog/ one level deep: depths differ, as in a
    # real export; imagefolder alone drops every label (or labels by the inner folder)
    for i in range(3):
        _png(tmp_path / "cat" / "indoor" / f"{i}.png")
        _png(tmp_path / "cat" / "outdoor" / f"{i}.png")
        _png(tmp_path / "dog" / f"{i}.png")
    ds = load_dataset(str(tmp_path))
    assert ds.num_rows == 9
    assert ds.features["label"].names == ["cat", "dog"]
    counts = np.bincount(ds["label"])
    assert counts.tolist() == [6, 3]


def test_nested_subfolders_of_equal_depth_are_not_labelled_by_the_inner_folder(tmp_path):
    for cls in ("cat", "dog"):
        for sub in ("a", "b"):
            for i in range(2):
                _png(tmp_path / cls / sub / f"{i}.png")
    ds = load_dataset(str(tmp_path))
    assert ds.features["label"].names == ["cat", "dog"]


def test_flat_folder_of_images_is_an_unlabelled_image_dataset(tmp_path):
    for i in range(4):
        _png(tmp_path / f"{i}.png", (i * 50, 0, 0))
    ds = load_dataset(str(tmp_path))  # was read as text: "not valid utf-8 ... --encoding"
    assert ds.num_rows == 4
    assert "image" in ds.column_names and "label" not in ds.column_names
    assert ds[0]["image"].size == (8, 8)


def test_images_both_at_top_level_and_in_class_folders_is_a_clear_error(tmp_path):
    _png(tmp_path / "stray.png")
    _png(tmp_path / "cat" / "0.png")
    _png(tmp_path / "dog" / "0.png")
    with pytest.raises(DataError, match=r"1 images lie at the top level.*stray.png.*subfolder"):
        load_dataset(str(tmp_path))


def test_an_image_file_as_source_says_to_pass_its_folder(tmp_path):
    _png(tmp_path / "a.png")
    with pytest.raises(DataError, match="pass the folder"):
        load_dataset(str(tmp_path / "a.png"))


def _png16(path, value: int):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8), value, dtype=np.uint16)).save(path)


def test_16bit_png_of_mean_half_stays_half_not_white(tmp_path):
    _png16(tmp_path / "x" / "half.png", 32768)
    _png16(tmp_path / "y" / "quarter.png", 16384)
    ds = load_dataset(str(tmp_path))
    raw = ds.cast_column("image", ds.features["image"].__class__(decode=False))
    means = [
        np.asarray(decode_item(v, "image"), dtype=np.float64).mean() / 255 for v in raw["image"]
    ]
    assert means == pytest.approx([0.5, 0.25], abs=0.003)  # was 1.0 (saturated white)


def test_16bit_png_through_the_pixels_encoder(tmp_path):
    from reprlearn.embed import encode_items

    _png16(tmp_path / "half.png", 32768)
    X = encode_items("pixels", [{"path": str(tmp_path / "half.png"), "bytes": None}])
    assert X.mean() == pytest.approx(0.5, abs=0.003)


@pytest.mark.parametrize(
    ("mode", "values", "expected"),
    [
        ("I", [0, 255], [0, 255]),  # 32-bit integer holding 8-bit values
        ("I", [0, 65535], [0, 255]),  # 32-bit integer holding 16-bit values
        ("F", [0.0, 0.5], [0, 128]),  # float in [0, 1]
    ],
)
def test_to_8bit_other_high_bit_depth_modes(mode, values, expected):
    a = np.array([values], dtype=np.int32 if mode == "I" else np.float32)
    out = to_8bit(Image.fromarray(a, mode=mode) if mode == "F" else Image.fromarray(a))
    assert out.mode == "L"
    assert np.asarray(out)[0].tolist() == expected


def test_to_8bit_leaves_8bit_images_alone():
    img = Image.new("RGB", (2, 2), (1, 2, 3))
    assert to_8bit(img) is img


def test_pretraining_arrays_scale_16bit_images():
    from reprlearn.training.data import to_array

    img = Image.fromarray(np.full((4, 4), 32768, dtype=np.uint16))
    assert to_array(img, "L", None).mean() == pytest.approx(127.5, abs=1)


def _image_parquet(path, labels, paths=None):
    import io

    import datasets

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 255, 0)).save(buf, format="PNG")
    paths = paths or [f"{i}.png" for i in range(len(labels))]
    datasets.Dataset.from_dict(
        {"image": [{"bytes": buf.getvalue(), "path": p} for p in paths], "label": labels}
    ).to_parquet(str(path))


def test_image_parquet_with_string_labels(tmp_path):
    _image_parquet(tmp_path / "x.parquet", ["dog", "cat", "dog"])
    ds = load_dataset(str(tmp_path / "x.parquet"))  # was TypeError in max() + 1
    assert ds.features["label"].names == ["cat", "dog"] and ds["label"] == [1, 0, 1]


def test_image_parquet_with_a_missing_label_names_the_row(tmp_path):
    _image_parquet(tmp_path / "x.parquet", [0, None, 1])
    with pytest.raises(DataError, match=r"x.parquet: row 1 has no value in label column"):
        load_dataset(str(tmp_path / "x.parquet"))


def test_image_folder_with_metadata_labels(tmp_path):
    for i in range(4):
        _png(tmp_path / f"{i}.png")
    (tmp_path / "metadata.csv").write_text(
        "file_name,label\n0.png,cat\n1.png,dog\n2.png,cat\n3.png,dog\n"
    )
    ds = load_dataset(str(tmp_path))  # string labels were kept as strings: no label names
    assert ds.features["label"].names == ["cat", "dog"]
    assert sorted(ds["label"]) == [0, 0, 1, 1]


def test_symlinked_images_and_folder_keep_their_labels(tmp_path):
    _png(tmp_path / "store" / "a.png")
    _png(tmp_path / "store" / "b.png")
    root = tmp_path / "classes"
    for cls, name in (("cat", "a.png"), ("dog", "b.png")):
        (root / cls).mkdir(parents=True)
        (root / cls / name).symlink_to(tmp_path / "store" / name)
    (tmp_path / "link").symlink_to(root)
    ds = load_dataset(str(tmp_path / "link"))
    assert ds.features["label"].names == ["cat", "dog"] and sorted(ds["label"]) == [0, 1]
