"""SimCLR, VICReg and BYOL on a small CNN under 2 gloo processes (forked), with BatchNorm
over the global batch (GlobalBatchNorm) and the losses' gathers: the loss and DDP's
averaged gradients equal one process's on the concatenated batch."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist

from reprlearn.training.backbones import build_backbone
from reprlearn.training.distributed import reduce_sums
from reprlearn.training.methods import get_method
from reprlearn.training.sync_batchnorm import convert_to_global_batchnorm

WORLD, B = 2, 8
OPTIONS = {"simclr": {"proj_hidden": 16, "proj_out": 8},
           "vicreg": {"expander_dim": 16},
           "byol": {"proj_hidden": 16, "proj_out": 8}}  # fmt: skip


def _method(name: str):
    torch.manual_seed(0)
    net, dim = build_backbone("small_cnn", 1, 8, [0.3], [0.4])
    return get_method(name)(backbone=net, feat_dim=dim, input_shape=(1, 8, 8), **OPTIONS[name])


def _images() -> torch.Tensor:
    return torch.rand(WORLD * B, 1, 8, 8, generator=torch.Generator().manual_seed(1))


def _flip(x: torch.Tensor) -> torch.Tensor:  # a deterministic "augmentation"
    return x.flip(-1)


def _grads(method) -> dict[str, torch.Tensor]:
    return {k: p.grad.clone() for k, p in method.named_parameters() if p.grad is not None}


def _worker(rank: int, name: str) -> dict:
    method = convert_to_global_batchnorm(_method(name))
    loss = method.training_loss(_images()[rank * B : (rank + 1) * B], _flip)["loss"]
    loss.backward()
    grads = _grads(method)
    for g in grads.values():  # DDP: the mean of the ranks' gradients
        dist.all_reduce(g)
        g /= WORLD
    mean_loss = reduce_sums({"loss": float(loss.detach())})["loss"] / WORLD
    return {"loss": mean_loss, "grads": grads}


@pytest.mark.parametrize(
    "name", ["simclr", pytest.param("vicreg", marks=pytest.mark.slow),
             pytest.param("byol", marks=pytest.mark.slow)],
)  # fmt: skip
def test_method_under_ddp_equals_one_process(run_on_ranks, name):
    ref = _method(name)
    loss = ref.training_loss(_images(), _flip)["loss"]
    loss.backward()
    full = _grads(ref)
    res = run_on_ranks(_worker, name, world=WORLD)[0]
    # BYOL's loss is a per-item mean: the ranks' mean equals it; the others are global
    assert res["loss"] == pytest.approx(float(loss.detach()), rel=1e-5, abs=1e-5)
    assert res["grads"].keys() == full.keys()
    # gradients that are zero in theory (a bias before BatchNorm or centred statistics)
    # hold float noise: compare on the scale of the whole gradient
    scale = max(float(g.abs().max()) for g in full.values())
    for k, g in full.items():
        torch.testing.assert_close(res["grads"][k], g, atol=1e-5 * scale, rtol=1e-4, msg=k)
