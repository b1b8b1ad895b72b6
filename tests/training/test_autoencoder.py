"""Autoencoder method: trains on real digits, reconstructs, denoises, gives useful codes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from torch import nn

from reprlearn.training.methods import get_method
from reprlearn.training.methods.autoencoder import Autoencoder


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models train far faster on one thread than on contended cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _digits() -> tuple[torch.Tensor, np.ndarray]:
    d = load_digits()
    return torch.tensor(d.images / 16.0, dtype=torch.float32).unsqueeze(1), d.target


def _mlp_backbone(dim_in: int = 64, feat: int = 128) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(dim_in, feat), nn.ReLU())


def _train(method: nn.Module, x: torch.Tensor, steps: int = 300, lr: float = 2e-3) -> None:
    torch.manual_seed(0)
    opt = torch.optim.Adam(method.parameters(), lr=lr)
    method.train()
    for step in range(steps):
        idx = torch.randint(0, len(x), (128,))
        loss = method.training_loss(x[idx], lambda v: v)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        method.after_optimizer_step(step, steps)
    method.eval()


def test_registered_and_config():
    cls = get_method("ae")
    ae = cls(backbone=_mlp_backbone(), feat_dim=128, input_shape=(1, 8, 8), latent_dim=5)
    assert cls is Autoencoder
    assert ae.config() == {
        "latent_dim": 5,
        "loss": "mse",
        "denoising": 0.0,
        "decoder_width": 32,
    }
    assert ae.embed(torch.rand(3, 1, 8, 8)).shape == (3, 5)
    # the checkpoint contract: config() holds exactly the constructor's options
    again = cls(backbone=_mlp_backbone(), feat_dim=128, input_shape=(1, 8, 8), **ae.config())
    again.load_state_dict(ae.state_dict())


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_ae_learns_to_reconstruct_digits(loss):
    torch.manual_seed(0)
    x, y = _digits()
    train, test = x[:1400], x[1400:]
    ae = Autoencoder(_mlp_backbone(), 128, input_shape=(1, 8, 8), latent_dim=8, loss=loss)
    _train(ae, train)
    with torch.no_grad():
        err = ((ae.reconstruct(test) - test) ** 2).mean().item()
        codes = ae.embed(x).numpy()
    baseline = ((train.mean(0, keepdim=True) - test) ** 2).mean().item()
    assert err < 0.4 * baseline, (err, baseline)
    # the 8-d code keeps the digit identity: a linear probe on held-out rows
    codes = StandardScaler().fit(codes[:1400]).transform(codes)
    clf = LogisticRegression(max_iter=500).fit(codes[:1400], y[:1400])
    assert clf.score(codes[1400:], y[1400:]) > 0.75


def test_denoising_ae_removes_noise():
    torch.manual_seed(0)
    x, _ = _digits()
    ae = Autoencoder(_mlp_backbone(), 128, input_shape=(1, 8, 8), latent_dim=16, denoising=0.3)
    _train(ae, x[:1400])
    clean = x[1400:]
    noisy = clean + 0.3 * torch.randn_like(clean)
    with torch.no_grad():
        denoised = ae.reconstruct(noisy)
    assert ((denoised - clean) ** 2).mean() < 0.5 * ((noisy - clean) ** 2).mean()


def test_conv_decoder_path_on_32px_rgb():
    torch.manual_seed(0)
    backbone = nn.Sequential(
        nn.Conv2d(3, 8, 4, stride=4), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 64, 32), nn.ReLU()
    )
    ae = Autoencoder(backbone, 32, input_shape=(3, 32, 32), latent_dim=4, decoder_width=8)
    x = torch.rand(16, 3, 32, 32)
    first = ae.training_loss(x, lambda v: v)["loss"].item()
    _train(ae, x, steps=30, lr=3e-3)
    assert ae.reconstruct(x).shape == (16, 3, 32, 32)
    assert ae.training_loss(x, lambda v: v)["loss"].item() < first


def test_bad_options_and_inputs_raise():
    with pytest.raises(ValueError, match="loss must be one of"):
        Autoencoder(_mlp_backbone(), 128, input_shape=(1, 8, 8), loss="l1")
    with pytest.raises(ValueError, match="input_shape"):
        Autoencoder(_mlp_backbone(), 128)
    ae = Autoencoder(_mlp_backbone(), 128, input_shape=(1, 8, 8), loss="bce")
    with pytest.raises(ValueError, match=r"needs inputs in \[0, 1\]"):
        ae.training_loss(torch.randn(4, 1, 8, 8), lambda v: v)
