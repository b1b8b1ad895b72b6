"""``reprlearn augment`` with supervised recipes: captioned grids, MixUp/CutMix label weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from reprlearn.augment.preview import supervised_views
from reprlearn.augment.recipes import image_augment


def _cli(args):
    import reprlearn.cli
    from reprlearn.cli.app import app

    reprlearn.cli._register_commands()
    return CliRunner().invoke(app, args)


def test_mixed_tiles_are_captioned_with_weights_summing_to_one():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (6, 3, 16, 16), generator=g, dtype=torch.uint8)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    tiles, caps = supervised_views(images, labels, ["cat", "dog", "ship"],
                                   image_augment("light", mixup=0.4, cutmix=1.0), views=3, seed=1)  # fmt: skip
    assert tiles.shape == (6, 4, 3, 16, 16) and torch.equal(tiles[:, 0], images.float() / 255)
    assert [c[0] for c in caps] == ["cat", "dog", "ship", "cat", "dog", "ship"]
    for row in caps:
        for cap in row[1:]:
            weights = [float(part.rsplit(" ", 1)[1]) for part in cap.split(" / ")]
            assert sum(weights) == pytest.approx(1.0, abs=0.011)
    again = supervised_views(images, labels, ["cat", "dog", "ship"],
                             image_augment("light", mixup=0.4, cutmix=1.0), views=3, seed=1)  # fmt: skip
    assert torch.equal(again[0], tiles) and again[1] == caps


def test_cli_preview_of_digits_with_cutmix(tmp_path):
    out = tmp_path / "grid.png"
    res = _cli(["augment", "digits", "--recipe", "default", "--cutmix", "1.0", "--n", "4",
                "--views", "3", "--out", str(out), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["augment"]["cutmix"] == 1.0 and summary["augment"]["recipe"] == "default"
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape[0] >= 4 * 128 and img.shape[1] >= 4 * 128
    assert ((img == [255, 255, 0]).all(-1)).sum() > 100  # the yellow captions are drawn


@pytest.mark.parametrize(
    "args, match",
    [(["--recipe", "heavy"], "unknown recipe 'heavy'"), (["--recipe", "light", "--hflip", "0.5"], "mirrored digit"),
     (["--recipe", "default", "--crop-scale", "2,3"], "0 < A <= B <= 1")],
)  # fmt: skip
def test_cli_preview_bad_options_are_one_line_errors(tmp_path, args, match):
    res = _cli(["augment", "digits", *args, "--out", str(tmp_path / "g.png")])
    assert res.exit_code == 2 and match in res.output


@pytest.mark.shared_data
def test_cli_preview_of_cifar10_with_mixup(shared_data, tmp_path):
    out = tmp_path / "c10.png"
    res = _cli(["augment", "cifar10", "--data-dir", str(shared_data), "--recipe", "default",
                "--mixup", "0.2", "--n", "4", "--views", "2", "--out", str(out), "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["augment"]["mixup"] == 0.2
    assert Image.open(out).size[0] >= 3 * 128 and Image.open(out).size[1] >= 4 * 128
