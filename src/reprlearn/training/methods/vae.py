"""Variational autoencoder (Kingma & Welling 2014) and beta-VAE (Higgins et al. 2017).

The encoder (backbone + linear head) gives the Gaussian posterior
``q(z|x) = N(mu, diag(exp(logvar)))``; ``z = mu + sigma * eps`` (reparameterisation,
eps ~ N(0, I)); the decoder gives ``p(x|z)``. Training minimises the negative ELBO::

    loss = -E_q[log p(x|z)] + beta_t * KL(q(z|x) || N(0, I))

per example (summed over pixels and latent dims), averaged over the batch. The KL is in
closed form (Kingma & Welling 2014, appendix B)::

    KL = 0.5 * sum_j (mu_j^2 + exp(logvar_j) - 1 - logvar_j)

Likelihoods (``loss`` option):

* ``"bce"`` (default): Bernoulli, ``log p(x|z) = sum_i x_i log p_i + (1 - x_i) log(1 - p_i)``
  with ``p = sigmoid(decoder(z))``; inputs in ``[0, 1]`` (grey levels used as soft targets,
  as in the original paper's Frey-face / MNIST setups).
* ``"mse"``: Gaussian with a fixed std ``obs_sigma`` (default 0.1),
  ``-log p(x|z) = sum_i (x_i - m_i)^2 / (2 sigma^2) + log(sigma sqrt(2 pi))``,
  ``m = sigmoid(decoder(z))``.

beta > 1 trades reconstruction for a more factorised code (Higgins et al. 2017). The KL
warm-up ramps beta linearly from 0 over the first ``kl_warmup_steps`` optimiser steps
(Bowman et al. 2016; Sønderby et al. 2016). ``embed`` returns the posterior mean.

Posterior collapse (Bowman et al. 2016; Lucas et al. 2019): latent dims whose mean KL
is below 0.01 nats carry no information about x; :func:`collapse_warning` reports it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reprlearn.training.decoders import make_decoder
from reprlearn.training.methods import register_method
from reprlearn.training.methods.autoencoder import check_recon_options, check_unit_range
from reprlearn.training.methods.base import Augment, Method

COLLAPSE_NATS = 0.01


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Closed-form ``KL(N(mu, exp(logvar)) || N(0, 1))`` per dim, ``(B, latent_dim)``, nats."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def reconstruction_nll(
    out: torch.Tensor, x: torch.Tensor, loss: str = "bce", obs_sigma: float = 0.1
) -> torch.Tensor:
    """``-log p(x|z)`` per example ``(B,)`` in nats, summed over all pixels.

    Args:
        out: decoder logits, shape of ``x``.
        x: targets in ``[0, 1]``, ``(B, ...)``.
        loss: ``"bce"`` (Bernoulli) or ``"mse"`` (Gaussian with std ``obs_sigma``).
    """
    if loss == "bce":
        nll = F.binary_cross_entropy_with_logits(out, x, reduction="none")
    else:
        sq = (torch.sigmoid(out) - x).pow(2) / (2 * obs_sigma**2)
        nll = sq + math.log(obs_sigma * math.sqrt(2 * math.pi))
    return nll.flatten(1).sum(1)


def collapse_warning(
    kl_per_dim: torch.Tensor, threshold: float = COLLAPSE_NATS, fraction: float = 0.9
) -> str | None:
    """A warning string when ``>= fraction`` of the latent dims have mean KL < ``threshold``.

    Args:
        kl_per_dim: mean KL per latent dim over a data set, ``(latent_dim,)``, nats.
        threshold: KL below which a dim counts as collapsed (default 0.01 nats).
        fraction: share of collapsed dims that triggers the warning (default 0.9: "most").

    Returns:
        None when enough dims are active, else ``"posterior collapse: ..."``.
    """
    collapsed = int((kl_per_dim < threshold).sum())
    total = kl_per_dim.numel()
    if collapsed < fraction * total:
        return None
    return (
        f"posterior collapse: {collapsed} of {total} latent dims have mean KL < {threshold} "
        "nats (they carry no information about the input); lower beta, lengthen the KL "
        "warm-up or weaken the decoder"
    )


@register_method("vae")
class VAE(Method):
    """VAE / beta-VAE with a Gaussian posterior; ``embed`` = posterior mean ``(B, latent_dim)``.

    Args:
        backbone: feature extractor ``(B, *input_shape)`` -> ``(B, feat_dim)``.
        feat_dim: backbone output size.
        input_shape: ``(C, H, W)`` or ``(D,)`` of one input.
        latent_dim: size of z (default 10).
        beta: KL weight (default 1.0 = the ELBO; > 1 = beta-VAE).
        loss: likelihood, ``"bce"`` (Bernoulli, default) or ``"mse"`` (Gaussian).
        obs_sigma: std of the Gaussian likelihood (default 0.1; only ``loss="mse"``).
        kl_warmup_steps: optimiser steps of the linear beta ramp (default 0 = none).
        kl_warmup_epochs, steps_per_epoch: the ramp in epochs instead (both needed).
        decoder_width: channels of the conv decoder's last block (default 32).

    Raises:
        ValueError: bad options (unknown loss, latent_dim < 1, beta < 0,
            ``kl_warmup_epochs`` without ``steps_per_epoch``).
    """

    def __init__(
        self,
        backbone: nn.Module,
        feat_dim: int,
        input_shape: tuple[int, ...] | None = None,
        latent_dim: int = 10,
        beta: float = 1.0,
        loss: str = "bce",
        obs_sigma: float = 0.1,
        kl_warmup_steps: int = 0,
        kl_warmup_epochs: float = 0.0,
        steps_per_epoch: int | None = None,
        decoder_width: int = 32,
    ) -> None:
        super().__init__(backbone, feat_dim)
        check_recon_options(loss, latent_dim, input_shape)
        if beta < 0 or obs_sigma <= 0:
            raise ValueError(f"need beta >= 0 and obs_sigma > 0, got {beta}, {obs_sigma}")
        if kl_warmup_epochs and not steps_per_epoch:
            raise ValueError("kl_warmup_epochs needs steps_per_epoch (or use kl_warmup_steps)")
        if kl_warmup_epochs:
            kl_warmup_steps = round(kl_warmup_epochs * steps_per_epoch)
        self.input_shape = tuple(int(s) for s in input_shape)
        self.latent_dim, self.beta, self.loss = int(latent_dim), float(beta), loss
        self.obs_sigma, self.kl_warmup_steps = float(obs_sigma), int(kl_warmup_steps)
        self.decoder_width = int(decoder_width)
        self.head = nn.Linear(feat_dim, 2 * self.latent_dim)
        self.decoder = make_decoder(self.latent_dim, self.input_shape, "logits", decoder_width)
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    # --- model -------------------------------------------------------------------------
    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` of q(z|x), each ``(B, latent_dim)``."""
        mu, logvar = self.head(self.backbone(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-20.0, 10.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Mean of p(x|z) in ``[0, 1]``, ``(B, *input_shape)``."""
        return torch.sigmoid(self.decoder(z))

    def current_beta(self) -> float:
        """beta after the linear warm-up (``beta * min(1, step / kl_warmup_steps)``)."""
        if self.kl_warmup_steps <= 0:
            return self.beta
        return self.beta * min(1.0, int(self.step) / self.kl_warmup_steps)

    def terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-example ``recon`` (-log p(x|z), one z sample) and ``kl`` ``(B,)``, and
        ``kl_per_dim`` ``(B, latent_dim)``, nats."""
        mu, logvar = self.posterior(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        kl_dims = gaussian_kl(mu, logvar)
        recon = reconstruction_nll(self.decoder(z), x, self.loss, self.obs_sigma)
        return {"recon": recon, "kl": kl_dims.sum(1), "kl_per_dim": kl_dims}

    def training_loss(self, x: torch.Tensor, augment: Augment) -> dict[str, torch.Tensor]:
        """Negative (beta-weighted) ELBO of one batch; also logs recon, kl, elbo, beta and
        ``active_dims`` (latent dims with batch-mean KL >= 0.01 nats)."""
        check_unit_range(x, self.loss)
        t = self.terms(x)
        recon, kl, beta = t["recon"].mean(), t["kl"].mean(), self.current_beta()
        active = (t["kl_per_dim"].mean(0) >= COLLAPSE_NATS).sum()
        return {
            "loss": recon + beta * kl,
            "recon": recon.detach(),
            "kl": kl.detach(),
            "elbo": -(recon + kl).detach(),
            "beta": torch.tensor(beta),
            "active_dims": active.float(),
        }

    def after_optimizer_step(self, step: int, total_steps: int) -> None:
        """Advance the KL warm-up counter (``step`` = index of the step just taken)."""
        self.step.fill_(step + 1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior mean ``(B, latent_dim)``."""
        return self.posterior(x)[0]

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decoded posterior mean in ``[0, 1]``, shape of ``x``."""
        return self.decode(self.posterior(x)[0])

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode ``n`` draws ``z ~ N(0, I)``: ``(n, *input_shape)`` in ``[0, 1]``."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, generator=generator).to(device)
        return self.decode(z)

    def config(self) -> dict[str, Any]:
        """Constructor options (not ``input_shape``, which the run config holds)."""
        return {
            "latent_dim": self.latent_dim,
            "beta": self.beta,
            "loss": self.loss,
            "obs_sigma": self.obs_sigma,
            "kl_warmup_steps": self.kl_warmup_steps,
            "decoder_width": self.decoder_width,
        }


@dataclass
class VAEEvaluation:
    """Held-out ELBO of a VAE (nats per example unless noted).

    Attributes:
        elbo: mean ELBO (beta = 1), ``-recon - kl``.
        recon: mean ``-log p(x|z)`` (one z sample per example).
        kl: mean ``KL(q(z|x) || p(z))``.
        bits_per_dim: ``-elbo / (D ln 2)``, D = pixels per example; for ``loss="mse"`` the
            Gaussian density on [0, 1] is turned into 8-bit bins (+ log2 256 = 8 bits),
            the convention of Theis et al. 2016. An upper bound on the true bits/dim.
        kl_per_dim: mean KL of each latent dim.
        active_dims: dims with mean KL >= 0.01 nats.
        warning: the posterior-collapse warning, or None.
    """

    elbo: float
    recon: float
    kl: float
    bits_per_dim: float
    kl_per_dim: list[float] = field(default_factory=list)
    active_dims: int = 0
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@torch.no_grad()
def evaluate_vae(vae: VAE, x: torch.Tensor, batch_size: int = 256, seed: int = 0) -> VAEEvaluation:
    """Held-out ELBO, bits/dim, KL per dim and collapse check of ``vae`` on ``x``.

    Args:
        vae: a trained :class:`VAE` (put in eval mode here).
        x: held-out inputs in [0, 1], ``(n, *input_shape)``.
        batch_size: examples per forward pass (default 256).
        seed: seed of the posterior samples (default 0).
    """
    vae.eval()
    torch.manual_seed(seed)
    device = next(vae.parameters()).device
    recon, kl, kl_dims = [], [], []
    for batch in x.split(batch_size):
        t = vae.terms(batch.to(device))
        recon.append(t["recon"])
        kl.append(t["kl"])
        kl_dims.append(t["kl_per_dim"])
    r, k, kd = torch.cat(recon), torch.cat(kl), torch.cat(kl_dims).mean(0)
    elbo = float(-(r + k).mean())
    d = math.prod(x.shape[1:])
    bpd = -elbo / (d * math.log(2)) + (8.0 if vae.loss == "mse" else 0.0)
    return VAEEvaluation(
        elbo=elbo,
        recon=float(r.mean()),
        kl=float(k.mean()),
        bits_per_dim=bpd,
        kl_per_dim=[float(v) for v in kd],
        active_dims=int((kd >= COLLAPSE_NATS).sum()),
        warning=collapse_warning(kd),
    )
