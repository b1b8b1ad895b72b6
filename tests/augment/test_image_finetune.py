"""finetune with supervised augmentation: recorded in config.json, reproducible from it,
soft MixUp/CutMix targets in the loss, ignored (and said so) by freeze, refused for texts."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from reprlearn.augment.recipes import ImageAugment, image_augment
from reprlearn.augment.supervised import FREEZE_NOTE, augment_record, training_transforms
from reprlearn.errors import DataError


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    """A randomly initialised SimCLR run folder (``small_cnn`` backbone, 8x8 gray): ``ckpt:FOLDER``
    (written with the exporter ``pretrain`` uses; no training, so the fixture is instant)."""
    from reprlearn.training.backbones import build_backbone
    from reprlearn.training.checkpoint import export_run
    from reprlearn.training.methods import get_method

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("ssl") / "run"
    backbone, feat_dim = build_backbone("small_cnn", 1, 8, [0.3], [0.4])
    method = get_method("simclr")(backbone=backbone, feat_dim=feat_dim, input_shape=(1, 8, 8),
                                  proj_hidden=16, proj_out=8)  # fmt: skip
    export_run(method, out, {"backbone": "small_cnn", "input_shape": [1, 8, 8],
                             "normalization": {"mean": [0.3], "std": [0.4]}})  # fmt: skip
    return out


def test_cli_full_with_recipe_and_mixing_records_and_reproduces(tiny_ckpt, tmp_path):
    import reprlearn.cli
    from reprlearn.adapt.data import ItemDataset

    reprlearn.cli._register_commands()
    from reprlearn.cli.app import app
    from reprlearn.encoders.registry import load_encoder

    out = tmp_path / "ft"
    args = ["finetune", "digits", "--encoder", f"ckpt:{tiny_ckpt}", "--strategy", "full",
            "--augment", "default", "--rotate", "15", "--mixup", "0.2", "--cutmix", "1.0",
            "--switch-prob", "0.3", "--label-smoothing", "0.1", "--labels-per-class", "10",
            "--epochs", "1", "--min-steps", "1", "--precision", "fp32", "--no-cams", "--out", str(out),
            "--json"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    record = json.loads((out / "config.json").read_text())["options"]["augment"]
    assert record["applied"] is True and record["recipe"] == "default"
    assert (record["rotate"], record["mixup"], record["cutmix"], record["switch_prob"]) == (
        15,
        0.2,
        1.0,
        0.3,
    )
    # the saved record rebuilds the same per-image pipeline: same seed, same training batch
    from PIL import Image
    from sklearn.datasets import load_digits

    imgs = [Image.fromarray((a * 255 / 16).astype(np.uint8)) for a in load_digits().images[:8]]
    enc = load_encoder(f"ckpt:{tiny_ckpt}")
    given = image_augment("default", rotate=15, mixup=0.2, cutmix=1.0, switch_prob=0.3).to_dict()
    batches = []
    for rec in (record, {**given, "applied": True}):
        per_image, mixing = training_transforms(rec, n_classes=10)
        torch.manual_seed(7)
        ds = ItemDataset(imgs, np.arange(8), enc, transform=per_image)
        x = torch.stack([ds[i][0] for i in range(8)])
        batches.append(mixing(x, torch.arange(8)))
    assert torch.equal(batches[0][0], batches[1][0]) and torch.equal(batches[0][1], batches[1][1])
    assert not torch.equal(
        batches[0][0], torch.stack([ItemDataset(imgs, np.arange(8), enc)[i][0] for i in range(8)])
    )


def test_freeze_ignores_augmentation_and_says_so(tmp_path):
    from reprlearn.adapt.finetune import finetune

    with pytest.warns(UserWarning, match="ignored by --strategy freeze"):
        finetune("digits", "pca:8", strategy="freeze", augment="strong",
                 out=tmp_path / "fz", labels_per_class=5, lp_epochs=1, min_steps=1,
                 progress=False)  # fmt: skip
    record = json.loads((tmp_path / "fz" / "config.json").read_text())["options"]["augment"]
    assert record["applied"] is False and record["note"] == FREEZE_NOTE
    assert ImageAugment.from_dict(record) == image_augment("strong")


def test_text_sources_are_refused_and_no_augmentation_is_not_applied():
    with pytest.raises(DataError, match="holds texts"):
        augment_record(image_augment("light"), "full", "text", "train.csv")
    assert augment_record(image_augment("none"), "full", "image", "digits")["applied"] is False
    assert training_transforms(augment_record(image_augment("none"), "full", "image", "d"), 10) == (
        None,
        None,
    )


def test_soft_targets_flow_into_the_loss_with_label_smoothing():
    from reprlearn.adapt.classifier import FinetuneModel, build_head
    from reprlearn.adapt.module import FinetuneModule
    from reprlearn.augment.mixing import BatchMixing

    torch.manual_seed(0)
    head = torch.nn.Sequential(torch.nn.Flatten(), build_head(6, 3, input_norm="none"))
    mixing = BatchMixing(image_augment(mixup=1.0), n_classes=3)
    module = FinetuneModule(FinetuneModel(None, head), None, lr=1e-3, label_smoothing=0.2,
                            mixing=mixing)  # fmt: skip
    x, y = torch.randn(8, 6, 1, 1), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    torch.manual_seed(1)
    loss = module._step((x, y), [0.0, 0, 0], mixing)
    torch.manual_seed(1)
    xm, ym = BatchMixing(image_augment(mixup=1.0), n_classes=3)(x, y)
    target = 0.8 * ym + 0.2 / 3
    manual = -(target * head(xm).log_softmax(1)).sum(1).mean()
    assert ym.shape == (8, 3) and torch.allclose(loss, manual, atol=1e-6)
