"""GlobalBatchNorm (CPU SyncBatchNorm) under 2 gloo processes equals BatchNorm of one
process on the concatenated batch: outputs, input and weight gradients, running stats."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from reprlearn.training.sync_batchnorm import (
    GlobalBatchNorm,
    convert_to_global_batchnorm,
    revert_global_batchnorm,
)

WORLD, B = 2, 3


def _model() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                        nn.Linear(16, 5), nn.BatchNorm1d(5))  # fmt: skip
    with torch.no_grad():
        net[1].weight.uniform_(0.5, 1.5)
        net[5].bias.uniform_(-1, 1)
    return net


def _inputs() -> torch.Tensor:
    return torch.randn(WORLD * B, 2, 4, 4, generator=torch.Generator().manual_seed(1)) * 3 + 1


def _step(net: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.clone().requires_grad_()
    y = net(x)
    (y.square().sum() + y[:, 0].sum()).backward()
    return y.detach(), x.grad


def _worker(rank: int) -> dict:
    net = convert_to_global_batchnorm(_model())
    y, gx = _step(net, _inputs()[rank * B : (rank + 1) * B])
    grads = {k: p.grad.clone() for k, p in net.named_parameters()}
    for g in grads.values():  # what DDP does: the mean of the ranks' gradients
        dist.all_reduce(g)
        g /= WORLD
    return {"y": y, "gx": gx, "grads": grads, "state": net.state_dict()}


def test_global_batchnorm_equals_one_process_batchnorm(run_on_ranks):
    ref = _model()
    y, gx = _step(ref, _inputs())
    ranks = run_on_ranks(_worker, world=WORLD)
    for r, res in enumerate(ranks):
        rows = slice(r * B, (r + 1) * B)
        torch.testing.assert_close(res["y"], y[rows], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(res["gx"], gx[rows], atol=1e-5, rtol=1e-5)
        for k, p in ref.named_parameters():  # DDP's mean over ranks = the full batch's / WORLD
            torch.testing.assert_close(res["grads"][k] * WORLD, p.grad, atol=1e-4, rtol=1e-5)
        for k, v in ref.state_dict().items():
            torch.testing.assert_close(res["state"][k], v, atol=1e-5, rtol=1e-5, msg=k)


def test_convert_and_revert_keep_parameters_and_keys():
    net = _model()
    keys, weight = list(net.state_dict()), net[1].weight
    conv = convert_to_global_batchnorm(net)
    assert isinstance(conv[1], GlobalBatchNorm) and isinstance(conv[5], GlobalBatchNorm)
    assert list(conv.state_dict()) == keys and conv[1].weight is weight
    x = _inputs()
    torch.testing.assert_close(conv(x), _model()(x))  # one process: plain BatchNorm
    back = revert_global_batchnorm(conv)
    assert type(back[1]) is nn.BatchNorm2d and type(back[5]) is nn.BatchNorm1d
    assert back[1].weight is weight and list(back.state_dict()) == keys
