"""NT-Xent, VICReg and BYOL losses against hand-written loop references on tiny batches."""

from __future__ import annotations

import math

import pytest
import torch

from reprlearn.training.losses import byol_loss, nt_xent, vicreg_loss


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(a @ b / (a.norm() * b.norm()))


def nt_xent_reference(z1: torch.Tensor, z2: torch.Tensor, t: float) -> float:
    """Chen et al. 2020, Eq. 1 and Algorithm 1, one anchor at a time."""
    z = torch.cat([z1, z2]).double()
    n, b = len(z), len(z1)
    total = 0.0
    for i in range(n):
        j = (i + b) % n  # the other view of the same item
        denom = sum(math.exp(_cos(z[i], z[k]) / t) for k in range(n) if k != i)
        total += -math.log(math.exp(_cos(z[i], z[j]) / t) / denom)
    return total / n


@pytest.mark.parametrize("t", [0.1, 0.5])
def test_nt_xent_matches_loop_reference(t):
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    assert nt_xent(z1, z2, t).item() == pytest.approx(nt_xent_reference(z1, z2, t), rel=1e-5)


def test_nt_xent_is_low_for_matching_views_and_high_for_swapped():
    z = torch.eye(4) * 3
    good = nt_xent(z, z + 0.01, 0.1)
    bad = nt_xent(z, z.roll(1, dims=0), 0.1)
    assert good < 0.01 < 5 < bad


def vicreg_reference(z1, z2, lam=25.0, mu=25.0, nu=1.0, gamma=1.0, eps=1e-4) -> float:
    """Bardes et al. 2022, Eqs. 1-6, with explicit loops over dimensions and pairs."""
    z1, z2 = z1.double(), z2.double()
    b, d = z1.shape
    inv = sum(float((z1[i, j] - z2[i, j]) ** 2) for i in range(b) for j in range(d)) / (b * d)

    def var(z):
        out = 0.0
        for j in range(d):
            m = sum(float(z[i, j]) for i in range(b)) / b
            v = sum((float(z[i, j]) - m) ** 2 for i in range(b)) / (b - 1)
            out += max(0.0, gamma - math.sqrt(v + eps))
        return out / d

    def cov(z):
        m = [sum(float(z[i, j]) for i in range(b)) / b for j in range(d)]
        out = 0.0
        for j in range(d):
            for k in range(d):
                if j != k:
                    c = sum((float(z[i, j]) - m[j]) * (float(z[i, k]) - m[k]) for i in range(b))
                    out += (c / (b - 1)) ** 2
        return out / d

    return lam * inv + mu * (var(z1) + var(z2)) / 2 + nu * (cov(z1) + cov(z2))


def test_vicreg_matches_loop_reference():
    g = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(6, 4, generator=g) * 0.7, torch.randn(6, 4, generator=g) * 1.3
    out = vicreg_loss(z1, z2)
    assert out["loss"].item() == pytest.approx(vicreg_reference(z1, z2), rel=1e-5)
    assert vicreg_loss(z1, z2, 1.0, 2.0, 3.0)["loss"].item() == pytest.approx(
        vicreg_reference(z1, z2, 1.0, 2.0, 3.0), rel=1e-5
    )


def test_vicreg_variance_term_penalises_collapse():
    spread = torch.randn(64, 8, generator=torch.Generator().manual_seed(0)) * 2
    collapsed = torch.ones(64, 8)
    assert vicreg_loss(collapsed, collapsed)["variance"].item() == pytest.approx(1 - 1e-2, abs=1e-3)
    assert vicreg_loss(spread, spread)["variance"].item() < 0.05


def test_byol_loss_matches_reference():
    g = torch.Generator().manual_seed(2)
    p, z = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    ref = sum(2 - 2 * _cos(p[i], z[i]) for i in range(5)) / 5
    assert byol_loss(p, z).item() == pytest.approx(ref, rel=1e-5)
    assert byol_loss(p, 3 * p).item() == pytest.approx(0.0, abs=1e-6)
    assert byol_loss(p, -p).item() == pytest.approx(4.0, abs=1e-5)


def test_losses_reject_bad_shapes():
    with pytest.raises(ValueError):
        nt_xent(torch.randn(4, 3), torch.randn(5, 3))
    with pytest.raises(ValueError):
        vicreg_loss(torch.randn(1, 3), torch.randn(1, 3))
