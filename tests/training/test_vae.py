"""VAE: closed-form KL and ELBO against Monte-Carlo, training on digits, posterior collapse."""

from __future__ import annotations

import math

import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.distributions import Normal

from reprlearn.training.methods import get_method
from reprlearn.training.methods.vae import (
    VAE,
    collapse_warning,
    evaluate_vae,
    gaussian_kl,
    reconstruction_nll,
)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models train far faster on one thread than on contended cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _digits() -> torch.Tensor:
    return torch.tensor(load_digits().images / 16.0, dtype=torch.float32).unsqueeze(1)


def _vae(**options) -> VAE:
    backbone = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU())
    return VAE(backbone, 128, input_shape=(1, 8, 8), **options)


def _train(method: VAE, x: torch.Tensor, steps: int = 300) -> None:
    torch.manual_seed(0)
    opt = torch.optim.Adam(method.parameters(), lr=2e-3)
    method.train()
    for step in range(steps):
        loss = method.training_loss(x[torch.randint(0, len(x), (128,))], lambda v: v)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        method.after_optimizer_step(step, steps)
    method.eval()


def test_closed_form_kl_matches_monte_carlo():
    torch.manual_seed(0)
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3)
    q = Normal(mu, torch.exp(0.5 * logvar))
    z = q.sample((200_000,))
    mc = (q.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).mean(0)
    torch.testing.assert_close(gaussian_kl(mu, logvar), mc, atol=0.03, rtol=0.02)
    assert gaussian_kl(torch.zeros(2, 5), torch.zeros(2, 5)).abs().max() == 0


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_elbo_matches_monte_carlo_estimate(loss):
    """recon + closed-form KL == E_q[log q(z|x) - log p(z) - log p(x|z)] (many samples)."""
    torch.manual_seed(0)
    vae = _vae(latent_dim=4, loss=loss).eval()
    x = _digits()[:3]
    n_samples = 4000
    with torch.no_grad():
        mu, logvar = vae.posterior(x)
        q = Normal(mu, torch.exp(0.5 * logvar))
        z = q.sample((n_samples,))  # (S, B, L)
        logits = vae.decoder(z.reshape(-1, 4)).reshape(n_samples, 3, 1, 8, 8)
        log_px = -torch.stack([reconstruction_nll(logits[s], x, loss) for s in range(n_samples)])
        log_pz = Normal(0.0, 1.0).log_prob(z).sum(-1)
        mc_elbo = (log_px + log_pz - q.log_prob(z).sum(-1)).mean(0)
        analytic = log_px.mean(0) - gaussian_kl(mu, logvar).sum(1)
        draws = [vae.terms(x) for _ in range(500)]  # the training path, one z per draw
        path = -torch.stack([t["recon"] + t["kl"] for t in draws]).mean(0)
    torch.testing.assert_close(analytic, mc_elbo, rtol=0.01, atol=0.1)
    torch.testing.assert_close(path, mc_elbo, rtol=0.02, atol=0.5)


def test_reconstruction_nll_known_values():
    x = torch.tensor([[0.0, 1.0]])
    # Bernoulli with p = 0.5 everywhere: 2 * log 2 nats
    assert reconstruction_nll(torch.zeros(1, 2), x, "bce").item() == pytest.approx(2 * math.log(2))
    # Gaussian, mean sigmoid(0) = 0.5, sigma 0.5: sum of 0.5 + log(0.5 sqrt(2 pi))
    nll = reconstruction_nll(torch.zeros(1, 2), x, "mse", obs_sigma=0.5).item()
    assert nll == pytest.approx(2 * (0.5 + math.log(0.5 * math.sqrt(2 * math.pi))))


def test_vae_trains_on_digits_and_reports_heldout_elbo():
    torch.manual_seed(0)
    x = _digits()
    vae = get_method("vae")(
        backbone=nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU()),
        feat_dim=128,
        input_shape=(1, 8, 8),
        latent_dim=6,
    )
    before = evaluate_vae(vae, x[1400:])
    _train(vae, x[:1400])
    after = evaluate_vae(vae, x[1400:])
    assert after.elbo > before.elbo + 5, (before.elbo, after.elbo)
    assert after.bits_per_dim == pytest.approx(-after.elbo / (64 * math.log(2)))
    assert after.active_dims >= 3 and after.warning is None
    assert vae.embed(x[:5]).shape == (5, 6)
    samples = vae.sample(7)
    assert samples.shape == (7, 1, 8, 8) and samples.min() >= 0 and samples.max() <= 1


def test_extreme_beta_collapses_posterior_and_is_reported():
    x = _digits()
    vae = _vae(latent_dim=6, beta=500.0)
    _train(vae, x[:1400], steps=200)
    result = evaluate_vae(vae, x[1400:])
    assert result.active_dims == 0
    assert result.warning is not None and result.warning.startswith("posterior collapse")
    assert max(result.kl_per_dim) < 0.01


def test_kl_warmup_ramps_beta_linearly():
    vae = _vae(beta=4.0, kl_warmup_steps=10)
    assert vae.current_beta() == 0.0
    vae.after_optimizer_step(4, 100)  # 5 steps taken
    assert vae.current_beta() == pytest.approx(2.0)
    vae.after_optimizer_step(20, 100)
    assert vae.current_beta() == 4.0
    out = vae.training_loss(_digits()[:8], lambda v: v)
    assert {"loss", "recon", "kl", "elbo", "beta", "active_dims"} <= set(out)
    assert _vae(kl_warmup_epochs=2, steps_per_epoch=7).kl_warmup_steps == 14
    with pytest.raises(ValueError, match="steps_per_epoch"):
        _vae(kl_warmup_epochs=2)


def test_collapse_warning_threshold():
    assert collapse_warning(torch.tensor([0.001, 0.002, 0.5])) is None
    assert "2 of 2" in collapse_warning(torch.tensor([0.001, 0.002]))


def _export(tmp_path, method_name: str, **options):
    """A trained run folder in the format of ``reprlearn pretrain`` (training/checkpoint.py)."""
    from reprlearn.training.backbones import build_backbone
    from reprlearn.training.checkpoint import export_run

    backbone, feat = build_backbone("mlp", 1, 8)
    method = get_method(method_name)(backbone=backbone, feat_dim=feat, input_shape=(1, 8, 8),
                                     **options)  # fmt: skip
    _train(method, _digits(), steps=150)
    facts = {"backbone": "mlp", "input_shape": [1, 8, 8], "normalization": None}
    export_run(method, tmp_path / "run", facts)
    return tmp_path / "run"


@pytest.mark.slow  # three CLI calls that each load digits (~10 s apiece on a busy machine)
def test_generate_reconstruct_traverse_commands(tmp_path):
    import json

    from PIL import Image
    from typer.testing import CliRunner

    from reprlearn.cli import _register_commands, app
    from reprlearn.training.checkpoint import load_run

    run = _export(tmp_path, "vae", latent_dim=4)
    assert isinstance(load_run(run)[0], VAE)
    _register_commands()
    cli = CliRunner()
    res = cli.invoke(app, ["generate", str(run), "--n", "9", "--out", str(tmp_path / "s.png")])
    assert res.exit_code == 0, res.output
    assert Image.open(tmp_path / "s.png").size[0] >= 3 * 8
    res = cli.invoke(app, ["reconstruct", str(run), "digits", "--n", "6", "--json",
                           "--out", str(tmp_path / "r.png")])  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["n"] == 6 and out["mse"] < 0.1  # digits pixel variance is ~0.19
    res = cli.invoke(app, ["traverse", str(run), "digits", "--steps", "5", "--json",
                           "--out", str(tmp_path / "t.png")])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["dims"] == [0, 1, 2, 3]
    image = Image.open(tmp_path / "t.png")
    assert image.size[0] / image.size[1] == pytest.approx(5 / 4, rel=0.05)  # 4 rows x 5 cols
    res = cli.invoke(app, ["traverse", str(run), "digits", "--dims", "7"])
    assert res.exit_code != 0 and "0..3" in res.output


def test_generate_refuses_a_plain_autoencoder(tmp_path):
    from reprlearn.errors import ReprlearnError
    from reprlearn.training.generative import load_generative_run, sample_images, traverse_latents

    method, config = load_generative_run(_export(tmp_path, "ae", latent_dim=3))
    with pytest.raises(ReprlearnError, match="plain autoencoder"):
        sample_images(method, 4)
    grid = traverse_latents(method, _digits()[:1], torch.linspace(-1, 1, 3))
    assert grid.shape == (3, 3, 1, 8, 8)
