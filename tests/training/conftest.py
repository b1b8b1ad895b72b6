"""Fixtures for the training tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models train several times faster on one thread than on 2 contended cores
    (a 3-epoch digits run: about 2.5 s against 9-13 s)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_entry(rank: int, fn, port: int, world: int, folder: str, args: tuple) -> None:
    import os

    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        torch.save(fn(rank, *args), f"{folder}/{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.fixture
def run_on_ranks(tmp_path):
    """``run_on_ranks(fn, *args, world=2)``: run ``fn(rank, *args)`` in ``world`` forked
    gloo processes (a process group set up around it) and return each rank's result."""
    import torch.multiprocessing as mp

    def run(fn, *args, world: int = 2) -> list:
        mp.start_processes(_rank_entry, args=(fn, _free_port(), world, str(tmp_path), args),
                           nprocs=world, start_method="fork")  # fmt: skip
        return [torch.load(tmp_path / f"{r}.pt") for r in range(world)]

    return run
