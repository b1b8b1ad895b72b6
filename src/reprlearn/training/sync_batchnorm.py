"""BatchNorm over the global batch of every DDP process, on the CPU (gloo) as on GPUs.

SimCLR computes BatchNorm's mean and variance over all devices ("global BN", Chen et al.
2020, Sec. 2): with per-device statistics the contrastive task can be solved from local
batch statistics and the representation learns less. BYOL and VICReg train their
projectors the same way (``nn.SyncBatchNorm`` in facebookresearch/vicreg). PyTorch's
``nn.SyncBatchNorm`` runs only on GPUs (its kernels ``batch_norm_stats`` ... exist for
CUDA only), so on GPUs :func:`batchnorm_sync_plugin` gives Lightning's own
``sync_batchnorm``, and on the CPU :class:`GlobalBatchNorm`: each rank's per-channel
count, mean and sum of squared deviations gathered with gradients
(``torch.distributed.nn.functional.all_gather``) and combined as ``nn.SyncBatchNorm``
does, which equals BatchNorm of one process on the concatenated batch (tested to 1e-5
with two gloo processes).
"""

from __future__ import annotations

import torch
from lightning.pytorch.plugins.layer_sync import LayerSync
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from reprlearn.training.distributed import is_distributed


class GlobalBatchNorm(_BatchNorm):
    """BatchNorm whose training statistics cover every rank's batch (any input rank:
    ``(N, C)``, ``(N, C, L)``, ``(N, C, H, W)``...). Outside ``torch.distributed``, or in
    eval mode, it is plain BatchNorm; same parameters and buffers (and state-dict keys)
    as ``nn.BatchNorm*d``."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"GlobalBatchNorm expects (N, C, ...) input, got {input.dim()}D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and is_distributed()):
            return super().forward(x)
        from torch.distributed.nn.functional import all_gather

        dims = [0, *range(2, x.dim())]
        xf, c = x.float(), x.shape[1]
        shape = [1, c] + [1] * (x.dim() - 2)
        # per rank: count, mean and sum of squared deviations (two-pass, no E[x^2] - E[x]^2
        # cancellation), combined exactly over the ranks (Chan et al.'s parallel variance)
        mean_r = xf.mean(dims)
        m2_r = (xf - mean_r.view(shape)).square().sum(dims)
        count = torch.full((1,), xf.numel() / c, dtype=xf.dtype, device=xf.device)
        parts = torch.stack(all_gather(torch.cat([mean_r, m2_r, count])))  # (W, 2C + 1)
        means, m2s, counts = parts[:, :c], parts[:, c : 2 * c], parts[:, 2 * c :]
        n = counts.sum()
        mean = (counts * means).sum(0) / n
        var = (m2s + counts * (means - mean).square()).sum(0) / n  # biased, as BatchNorm
        if self.track_running_stats and self.running_mean is not None:
            self._update_running_stats(mean.detach(), var.detach(), float(n.detach()))
        y = (xf - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(x.dtype)

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor, n: float) -> None:
        self.num_batches_tracked.add_(1)
        momentum = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                    else self.momentum)  # fmt: skip
        unbiased = var * n / max(n - 1, 1)
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), momentum)
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), momentum)


def convert_to_global_batchnorm(module: nn.Module) -> nn.Module:
    """``module`` with every BatchNorm layer replaced by :class:`GlobalBatchNorm`, sharing
    its parameters and buffers (as ``nn.SyncBatchNorm.convert_sync_batchnorm``)."""
    if isinstance(module, _BatchNorm) and not isinstance(
        module, GlobalBatchNorm | nn.SyncBatchNorm
    ):
        out = GlobalBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                              module.track_running_stats)  # fmt: skip
        out._original_class = type(module)
        if module.affine:
            out.weight, out.bias = module.weight, module.bias
        out.running_mean, out.running_var = module.running_mean, module.running_var
        out.num_batches_tracked = module.num_batches_tracked
        out.train(module.training)
    else:
        out = module
    for name, child in module.named_children():
        out.add_module(name, convert_to_global_batchnorm(child))
    return out


def revert_global_batchnorm(module: nn.Module) -> nn.Module:
    """Undo :func:`convert_to_global_batchnorm` (the original BatchNorm classes back)."""
    out = module
    if isinstance(module, GlobalBatchNorm):
        out = module._original_class(module.num_features, module.eps, module.momentum,
                                     module.affine, module.track_running_stats)  # fmt: skip
        if module.affine:
            out.weight, out.bias = module.weight, module.bias
        out.running_mean, out.running_var = module.running_mean, module.running_var
        out.num_batches_tracked = module.num_batches_tracked
        out.train(module.training)
    for name, child in module.named_children():
        out.add_module(name, revert_global_batchnorm(child))
    return out


class GlobalBatchNormSync(LayerSync):
    """Lightning plugin: BatchNorm layers become :class:`GlobalBatchNorm` while fitting
    under DDP (and revert afterwards), the CPU counterpart of ``sync_batchnorm=True``."""

    def apply(self, model: nn.Module) -> nn.Module:
        return convert_to_global_batchnorm(model)

    def revert(self, model: nn.Module) -> nn.Module:
        return revert_global_batchnorm(model)


def batchnorm_sync_plugin(accelerator: str) -> dict:
    """Trainer keyword arguments that synchronise BatchNorm over the DDP processes:
    ``{"sync_batchnorm": True}`` (PyTorch's ``nn.SyncBatchNorm``) where CUDA runs the
    model, else ``{"plugins": [GlobalBatchNormSync()]}``."""
    cuda = torch.cuda.is_available() and accelerator in ("auto", "gpu", "cuda")
    return {"sync_batchnorm": True} if cuda else {"plugins": [GlobalBatchNormSync()]}


__all__ = [
    "GlobalBatchNorm",
    "GlobalBatchNormSync",
    "batchnorm_sync_plugin",
    "convert_to_global_batchnorm",
    "revert_global_batchnorm",
]
