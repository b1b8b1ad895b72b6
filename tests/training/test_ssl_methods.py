"""SimCLR, VICReg and BYOL on real digits: the loss falls over a few steps; BYOL's EMA;
backbones and heads have the documented shapes."""

from __future__ import annotations

import pytest
import torch
from sklearn.datasets import load_digits

from reprlearn.augment.ssl_views import recipe
from reprlearn.training.backbones import build_backbone
from reprlearn.training.heads import build_mlp
from reprlearn.training.methods import get_method
from reprlearn.training.methods.byol import byol_tau

SMALL = {
    "simclr": {"temperature": 0.2},
    "vicreg": {"expander_dim": 128},
    "byol": {"proj_hidden": 128, "proj_out": 64},
}


@pytest.fixture(scope="module")
def digits():
    x = torch.tensor(load_digits().images / 16, dtype=torch.float32).unsqueeze(1)
    return x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:128]]


@pytest.mark.parametrize("name", ["simclr", "vicreg", "byol"])
def test_method_loss_decreases_on_digits(name, digits):
    torch.manual_seed(0)
    net, dim = build_backbone("mlp", 1, 8)  # the CNN path is covered by test_pretrain_run
    method = get_method(name)(backbone=net, feat_dim=dim, input_shape=(1, 8, 8), **SMALL[name])
    aug = recipe("digits", 8).reseed(0)
    opt = torch.optim.AdamW([p for p in method.parameters() if p.requires_grad], lr=2e-3)
    losses = []
    for step in range(16):
        out = method.training_loss(digits, aug)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        method.after_optimizer_step(step, 16)
        losses.append(out["loss"].item())
    first, last = sum(losses[:4]) / 4, sum(losses[-4:]) / 4
    assert last < 0.9 * first, losses
    assert method.embed(digits[:5]).shape == (5, dim)


def test_byol_ema_schedule_and_update():
    assert byol_tau(0, 100) == pytest.approx(0.996)
    assert byol_tau(50, 100) == pytest.approx(0.998)
    assert byol_tau(100, 100) == pytest.approx(1.0)
    net, dim = build_backbone("mlp", 1, 8)
    m = get_method("byol")(backbone=net, feat_dim=dim, proj_hidden=32, proj_out=16)
    online = next(m.backbone.parameters())
    target = next(m.target_backbone.parameters())
    with torch.no_grad():
        online.add_(1.0)
    before = target.clone()
    m.after_optimizer_step(0, 100)
    # xi <- tau xi + (1 - tau) theta with tau = 0.996
    torch.testing.assert_close(target, 0.996 * before + 0.004 * online)
    assert float(m.tau) == pytest.approx(byol_tau(1, 100))
    assert not target.requires_grad


@pytest.mark.parametrize(
    ("name", "shape", "dim"),
    [("small_cnn", (1, 8, 8), 128), ("small_cnn", (3, 32, 32), 128),
     ("resnet18_cifar", (3, 32, 32), 512), ("mlp", (1, 8, 8), 512)],
)  # fmt: skip
def test_backbone_shapes(name, shape, dim):
    net, feat_dim = build_backbone(name, shape[0], shape[1], [0.5] * shape[0], [0.25] * shape[0])
    assert feat_dim == dim
    assert net.eval()(torch.rand(2, *shape)).shape == (2, dim)


def test_resnet18_cifar_has_the_cifar_stem():
    net, _ = build_backbone("resnet18_cifar", 3, 32)
    resnet = net[1]
    assert resnet.conv1.kernel_size == (3, 3) and resnet.conv1.stride == (1, 1)
    assert isinstance(resnet.maxpool, torch.nn.Identity)


@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
@pytest.mark.parametrize("init", ["xavier", "he", "default"])
def test_heads(norm, init):
    mlp = build_mlp(16, [32, 32], 8, norm=norm, init=init, dropout=0.1)
    assert mlp(torch.randn(4, 16)).shape == (4, 8)
    first = mlp[0].weight
    if init == "he":  # Kaiming normal: std sqrt(2 / fan_in)
        assert first.std().item() == pytest.approx((2 / 16) ** 0.5, rel=0.25)
    norms = {torch.nn.BatchNorm1d: "batch", torch.nn.LayerNorm: "layer"}
    found = {norms[type(m)] for m in mlp if type(m) in norms}
    assert found == ({norm} if norm != "none" else set())


def test_unknown_names():
    with pytest.raises(ValueError, match="small_cnn"):
        build_backbone("vgg99", 3, 32)
    with pytest.raises(ValueError, match="simclr"):
        get_method("nope")
