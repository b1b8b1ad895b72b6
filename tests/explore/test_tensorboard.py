"""export --format tensorboard: the Embedding Projector's files."""

from __future__ import annotations

import numpy as np
from PIL import Image
from typer.testing import CliRunner

import reprlearn
from reprlearn.cli import _register_commands, app
from reprlearn.explore.tensorboard import export_tensorboard

runner = CliRunner()
_register_commands()


def test_image_store_export_has_sprite_and_config(tmp_path):
    store = reprlearn.embed(
        reprlearn.load_dataset("digits"), "pca:8", out=tmp_path / "s", progress=False
    )
    result = export_tensorboard(store, tmp_path / "tb", sample=100)
    X = np.loadtxt(tmp_path / "tb" / "tensors.tsv", delimiter="\t")
    assert X.shape == (100, 8)
    lines = (tmp_path / "tb" / "metadata.tsv").read_text().splitlines()
    assert lines[0] == "id\tlabel\timage" and len(lines) == 101
    sprite = Image.open(tmp_path / "tb" / "sprite.png")
    assert sprite.size == (10 * result.thumbnail, 10 * result.thumbnail)  # 100 thumbs, 10 x 10
    assert np.asarray(sprite).std() > 10  # real digits drawn, not a blank sheet
    config = (tmp_path / "tb" / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "tensors.tsv"' in config and 'metadata_path: "metadata.tsv"' in config
    assert f"single_image_dim: {result.thumbnail}" in config and "tensor_shape: 100" in config


def test_text_store_metadata_is_one_line_per_item_and_formula_safe(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "t.pos").write_text('fine\tfilm with a tab\n=HYPERLINK("x") great\nwarm film\n')
    (folder / "t.neg").write_text("dull film\nbad film\n")
    store = reprlearn.embed(
        reprlearn.load_dataset(str(folder)), "tfidf", out=tmp_path / "s", progress=False
    )
    res = runner.invoke(
        app, ["export", str(store.path), "--format", "tensorboard", "--out", str(tmp_path / "tb")]
    )
    assert res.exit_code == 0, res.output
    rows = [
        line.split("\t") for line in (tmp_path / "tb" / "metadata.tsv").read_text().splitlines()
    ]
    assert rows[0] == ["id", "label", "text"] and all(len(r) == 3 for r in rows)
    texts = {r[2] for r in rows[1:]}
    assert "fine film with a tab" in texts and '\'=HYPERLINK("x") great' in texts
    assert not (tmp_path / "tb" / "sprite.png").exists()
    res = runner.invoke(
        app, ["export", str(store.path), "--format", "csv", "--out", str(tmp_path / "x")]
    )
    assert "unknown --format" in (res.output + str(res.exception))
