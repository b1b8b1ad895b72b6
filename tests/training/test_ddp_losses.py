"""The SSL losses under ``torch.distributed`` (2 gloo processes, forked): NT-Xent with
negatives gathered across ranks and VICReg's global-batch terms equal the single-process
loss of the concatenated batch, and so do the gradients DDP would average."""

from __future__ import annotations

import pytest
import torch

from reprlearn.training.distributed import gather_with_grad, reduce_sums
from reprlearn.training.losses import nt_xent, vicreg_loss

WORLD, B, D = 2, 4, 6


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(WORLD * B, D, generator=g), torch.randn(WORLD * B, D, generator=g)


def _loss(name: str, z1: torch.Tensor, z2: torch.Tensor, gather: bool = True) -> torch.Tensor:
    if name == "nt_xent":
        return nt_xent(z1, z2, temperature=0.5, gather=gather)
    return vicreg_loss(z1, z2, gather=gather)["loss"]


def _worker(rank: int, name: str, gather: bool) -> dict:
    z1, z2 = _batch()
    rows = slice(rank * B, (rank + 1) * B)
    a, b = z1[rows].clone().requires_grad_(), z2[rows].clone().requires_grad_()
    loss = _loss(name, a, b, gather)
    loss.backward()
    total = reduce_sums({"loss": float(loss)})["loss"]
    return {"loss": total / WORLD, "g1": a.grad, "g2": b.grad,
            "gathered": gather_with_grad(a.detach()).shape[0]}  # fmt: skip


@pytest.mark.parametrize("name", ["nt_xent", "vicreg"])
def test_gathered_loss_and_gradients_equal_single_process(run_on_ranks, name):
    z1, z2 = _batch()
    z1.requires_grad_(), z2.requires_grad_()
    full = _loss(name, z1, z2)
    full.backward()
    ranks = run_on_ranks(_worker, name, True)
    assert all(r["gathered"] == WORLD * B for r in ranks)
    # the mean of the ranks' losses (what DDP optimises) is the loss of the whole batch
    assert ranks[0]["loss"] == pytest.approx(float(full.detach()), abs=1e-5)
    # each rank's gradient, averaged by DDP over WORLD ranks, is the full batch's gradient
    for r, res in enumerate(ranks):
        rows = slice(r * B, (r + 1) * B)
        torch.testing.assert_close(res["g1"] / WORLD, z1.grad[rows], atol=1e-5, rtol=0)
        torch.testing.assert_close(res["g2"] / WORLD, z2.grad[rows], atol=1e-5, rtol=0)


def test_without_gather_each_rank_sees_only_its_slice(run_on_ranks):
    """The regression the gather fixes: local negatives give a different (smaller) loss."""
    z1, z2 = _batch()
    ranks = run_on_ranks(_worker, "nt_xent", False)
    local = sum(float(nt_xent(z1[r * B:(r + 1) * B], z2[r * B:(r + 1) * B], 0.5))
                for r in range(WORLD)) / WORLD  # fmt: skip
    assert ranks[0]["loss"] == pytest.approx(local, abs=1e-5)
    assert abs(ranks[0]["loss"] - float(nt_xent(z1, z2, 0.5))) > 0.05
