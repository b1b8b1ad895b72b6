"""Strategies on tiny models: what trains, what stays frozen (weights and BatchNorm stats)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from reprlearn.adapt.blocks import discover_blocks
from reprlearn.adapt.finetune import finetune
from reprlearn.adapt.strategies import (
    Trainable,
    apply_strategy,
    backbone_param_groups,
    set_train_mode,
)
from reprlearn.errors import DataError, ReprlearnError

FAST = {"epochs": 2, "batch_size": 128, "precision": "fp32", "progress": False, "lr": 3e-3,
        "min_steps": 0, "lp_epochs": 3}  # fmt: skip


def test_blocks_of_torch_families():
    import timm
    from torchvision.models import resnet18
    from transformers import BertConfig, BertModel

    from reprlearn.training.backbones import build_backbone

    assert [n for n, _ in discover_blocks(resnet18())] == ["layer1", "layer2", "layer3", "layer4"]
    bert = BertModel(BertConfig(hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                                intermediate_size=32, vocab_size=50))  # fmt: skip
    assert [n for n, _ in discover_blocks(bert)] == [f"encoder.layer.{i}" for i in range(3)]
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, depth=2, img_size=32)
    assert [n for n, _ in discover_blocks(vit)] == ["blocks.0", "blocks.1"]
    convnext = timm.create_model("convnext_atto", pretrained=False)
    assert [n for n, _ in discover_blocks(convnext)] == [f"stages.{i}" for i in range(4)]
    cnn, _ = build_backbone("small_cnn", 1, 8)
    blocks = discover_blocks(cnn)
    assert len(blocks) == 6 and all(isinstance(b[0], nn.Conv2d) for _, b in blocks)
    mlp, _ = build_backbone("mlp", 1, 8)
    assert len(discover_blocks(mlp)) == 2


def test_partial_freezes_lower_blocks_and_keeps_their_batchnorm_in_eval():
    from reprlearn.training.backbones import build_backbone

    net, _ = build_backbone("small_cnn", 1, 8)
    trainable = apply_strategy(net, "partial", unfreeze=2)
    set_train_mode(net, trainable)
    blocks = discover_blocks(net)
    frozen_bn = [m for _, b in blocks[:-2] for m in b.modules() if isinstance(m, nn.BatchNorm2d)]
    top_bn = [m for _, b in blocks[-2:] for m in b.modules() if isinstance(m, nn.BatchNorm2d)]
    assert frozen_bn and not any(m.training for m in frozen_bn)
    assert all(m.training for m in top_bn)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.1)
    net(torch.rand(16, 1, 8, 8)).pow(2).mean().backward()
    opt.step()
    after = net.state_dict()
    top = {id(p) for _, b in blocks[-2:] for p in b.parameters()}
    for name, p in net.named_parameters():
        assert p.requires_grad == (id(p) in top), name
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    # frozen blocks: weights AND running statistics untouched
    assert all(k.split(".")[1] in {"12", "13", "14", "15", "16", "17", "18"} for k in changed)
    assert any("running_mean" in k for k in changed)  # the top blocks' BN did update


def test_layer_decay_gives_lower_blocks_smaller_rates():
    from reprlearn.training.backbones import build_backbone

    net, _ = build_backbone("small_cnn", 1, 8)
    trainable = apply_strategy(net, "full")
    groups = backbone_param_groups(net, trainable, 1.0, layer_decay=0.5)
    lrs = [g["lr"] for g in groups]
    assert lrs[:6] == [0.5**6, 0.5**5, 0.5**4, 0.5**3, 0.5**2, 0.5]
    plain = backbone_param_groups(net, Trainable(True, []), 1.0, backbone_lr_mult=0.1)
    assert plain[0]["lr"] == pytest.approx(0.1)


def _backbone_tensors(folder):
    return load_file(folder / "backbone.safetensors")


def test_freeze_trains_the_head_only_on_cached_features(tmp_path, tiny_ckpt):
    r = finetune("digits", f"ckpt:{tiny_ckpt}", strategy="freeze", out=tmp_path / "ft", **FAST)
    assert not (r.out / "backbone.safetensors").exists()
    assert (r.out / "features" / "source" / "manifest.json").is_file()
    head = load_file(r.out / "head.safetensors")
    assert r.trainable_params == sum(v.numel() for k, v in head.items() if "running" not in k
                                     and "num_batches" not in k)  # fmt: skip
    assert r.total_params > 10 * r.trainable_params
    assert r.accuracy.value > 0.5 and r.accuracy.ci_low < r.accuracy.value < r.accuracy.ci_high


def test_freeze_with_defaults_comes_close_to_the_linear_probe(tmp_path):
    """freeze is linear probing: with its defaults, its head on pca:16 digits features
    must come within 3 points of reprlearn's L-BFGS linear probe on the same features
    (it stopped at 88% against 96% before the head trained to convergence)."""
    import reprlearn

    r = finetune("digits", "pca:16", strategy="freeze", out=tmp_path / "ft", progress=False)
    store = reprlearn.embed(reprlearn.load_dataset("digits"), "pca:16", out=tmp_path / "s",
                            progress=False)  # fmt: skip
    probe = reprlearn.probe(store, "linear").results["linear"]
    assert r.accuracy.value > probe.accuracy.value - 0.03, (r.accuracy.value, probe.accuracy.value)


@pytest.mark.parametrize("strategy", ["partial", "full", "lp-ft"])
def test_backbone_strategies_change_exactly_what_they_train(tmp_path, tiny_ckpt, strategy):
    original = load_file(tiny_ckpt / "backbone.safetensors")
    r = finetune("digits", f"ckpt:{tiny_ckpt}", strategy=strategy, out=tmp_path / "ft", **FAST)
    adapted = {k.removeprefix("backbone."): v for k, v in _backbone_tensors(r.out).items()
               if k.startswith("backbone.")}  # fmt: skip
    assert set(adapted) == set(original)
    changed = {k for k in original if not torch.equal(original[k], adapted[k])}
    # mlp backbone: 0=Normalize, 1.1/1.2 = block 1 (Linear, BN), 1.4/1.5 = block 2
    block1 = {k for k in original if k.startswith(("1.1.", "1.2."))}
    block2 = {k for k in original if k.startswith(("1.4.", "1.5."))}
    if strategy == "partial":
        assert not changed & block1  # frozen block: weights and BN statistics unchanged
        assert block2 <= changed
    else:
        assert (block1 | block2) - {k for k in original if "num_batches" in k} <= changed
    stages = {rec["stage"] for rec in r.history}
    assert stages == ({"lp", "ft"} if strategy == "lp-ft" else {"train"})
    config = json.loads((r.out / "config.json").read_text())
    assert config["strategy"] == strategy and config["backbone_weights"] is True


def test_classical_encoder_takes_freeze_only(tmp_path):
    with pytest.raises(ReprlearnError, match="freeze only"):
        finetune("digits", "pca:16", strategy="full", out=tmp_path / "ft", **FAST)


def test_unknown_strategy_and_bad_unfreeze(tmp_path, tiny_ckpt):
    with pytest.raises(ReprlearnError, match="choose one of freeze, partial, full, lp-ft"):
        finetune("digits", "pixels", strategy="linear", out=tmp_path / "a", **FAST)
    with pytest.raises(ReprlearnError, match="has 2 blocks"):
        finetune("digits", f"ckpt:{tiny_ckpt}", strategy="partial", unfreeze=5,
                 out=tmp_path / "b", **FAST)  # fmt: skip


def test_unlabelled_source_is_refused(tmp_path):
    lines = tmp_path / "texts.txt"
    lines.write_text("one sentence\nanother sentence\n")
    with pytest.raises(DataError, match="has no labels"):
        finetune(str(lines), "tfidf", out=tmp_path / "ft", **FAST)
