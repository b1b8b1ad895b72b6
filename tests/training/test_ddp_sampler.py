"""``EpochSampler(shard=True)`` under 2 gloo processes: the ranks' step-k batches of B
items are together the items one process takes at step k with a batch of 2B (Lightning's
own DistributedSamplerWrapper reshuffles, so 1- and 2-process runs saw other batches)."""

from __future__ import annotations

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from reprlearn.training.pretrain import EpochSampler

WORLD, N, B = 2, 21, 4


def _worker(rank: int, port: int, folder: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        sampler = EpochSampler(N, seed=3, shard=True)
        sampler.set_epoch(2)
        torch.save({"len": len(sampler), "order": list(sampler)}, f"{folder}/{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_shards_make_the_single_process_batches(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.start_processes(_worker, args=(port, str(tmp_path)), nprocs=WORLD, start_method="fork")
    ranks = [torch.load(tmp_path / f"{r}.pt") for r in range(WORLD)]
    one = EpochSampler(N, seed=3, shard=True)  # no process group: the whole permutation
    one.set_epoch(2)
    order = list(one)
    assert len(one) == N and sorted(order) == list(range(N))
    assert all(r["len"] == N // WORLD for r in ranks)
    for k in range(N // WORLD // B):
        together = set().union(*(r["order"][k * B : (k + 1) * B] for r in ranks))
        assert together == set(order[k * WORLD * B : (k + 1) * WORLD * B])
    assert not set(ranks[0]["order"]) & set(ranks[1]["order"])
