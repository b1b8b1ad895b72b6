"""Helpers for data-parallel training (Lightning's DDP): gathers that carry gradients,
metric reductions and the rank of the current process.

Contrastive and decorrelation losses need the *global* batch: SimCLR's negatives come
from every device (Chen et al. 2020, Sec. 2 "Training with large batch size": "we
aggregate ... over all devices"), VICReg's variance and covariance are statistics of the
whole batch (facebookresearch/vicreg ``main_vicreg.py``: ``FullGatherLayer`` before the
loss). :func:`gather_with_grad` is ``torch.distributed.nn.functional.all_gather``, whose
backward sums the gradients each rank computed for every slice (a reduce-scatter), so
after DDP averages the parameter gradients they equal those of one process that saw the
concatenated batch. Outside ``torch.distributed`` (or with one process) every helper is
the identity.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    """Processes in the group (1 outside ``torch.distributed``)."""
    return dist.get_world_size() if is_distributed() else 1


def rank() -> int:
    """This process's rank in the group (0 outside ``torch.distributed``)."""
    return dist.get_rank() if is_distributed() else 0


def launched_rank() -> int:
    """This process's rank among those a launcher started, read from the environment
    (``RANK``, ``LOCAL_RANK``, ``NODE_RANK`` as Lightning's DDP launcher, ``torchrun`` and
    SLURM set them) before any process group exists; 0 for the process the user started.

    Only rank 0 prepares, locks and writes the run folder: Lightning's ``ddp`` launcher
    re-runs the command (``sys.argv``) for ranks 1.., and those must not touch it.
    """
    return max(int(os.environ.get(k, "0") or 0) for k in ("RANK", "LOCAL_RANK", "NODE_RANK"))


def _device(x: torch.Tensor | None = None) -> torch.device:
    """Where the backend's collectives want tensors: the CPU for gloo, else the GPU."""
    if dist.get_backend() == "gloo":
        return torch.device("cpu")
    return x.device if x is not None else torch.device("cuda", torch.cuda.current_device())


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """Every rank's ``x (B, ...)`` concatenated in rank order ``(world_size * B, ...)``,
    differentiable: gradients flow back to the rank that produced each slice.

    All ranks must pass tensors of the same shape (``drop_last=True`` loaders).

    Raises:
        ValueError: the ranks' batch sizes differ (checked once per call, cheaply).
    """
    if not is_distributed():
        return x
    from torch.distributed.nn.functional import all_gather

    sizes = torch.tensor([x.shape[0]], dtype=torch.long, device=_device(x))
    found = [torch.zeros_like(sizes) for _ in range(dist.get_world_size())]
    dist.all_gather(found, sizes)
    if len({int(s) for s in found}) > 1:
        raise ValueError(
            f"gather_with_grad: ranks hold different batch sizes {[int(s) for s in found]}; "
            "use drop_last=True so every rank's batch has the same size"
        )
    return torch.cat(all_gather(x), dim=0)


def reduce_sums(values: dict[str, float]) -> dict[str, float]:
    """Sum each value over the ranks (every rank must call it with the same keys, in the
    same order); the identity outside ``torch.distributed``. Used for epoch metrics."""
    if not is_distributed() or not values:
        return dict(values)
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=_device())
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return dict(zip(keys, t.cpu().tolist(), strict=True))


def reduce_max(value: float) -> float:
    """The largest ``value`` over the ranks (e.g. an epoch's wall time)."""
    if not is_distributed():
        return value
    t = torch.tensor([float(value)], dtype=torch.float64, device=_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())
