"""Starting or joining the Ray cluster that runs ``embed --engine ray``.

Without an address a local cluster is started on this machine (``ray.init(num_cpus=...)``)
and shut down when the run ends; ``address="auto"`` (or ``ray://HOST:10001``,
``HOST:6379``) joins a running cluster (``ray start --head`` / KubeRay / Anyscale) and leaves
it running. A Ray session already initialised in this process (e.g. by a notebook or a
test fixture) is reused as it is.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator
from typing import Any

from reprlearn.errors import ReprlearnError


def import_ray() -> Any:
    """``ray`` (with Ray Data), or a :class:`ReprlearnError` saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ReprlearnError(
            "--engine ray needs Ray Data: pip install 'reprlearn[ray]' (or 'ray[data]'); "
            "or run with --engine local"
        ) from None
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator[Any]:
    """Yield an initialised ``ray`` module: the session already open in this process, else
    a cluster joined at ``address``, else a new local cluster of ``num_cpus`` CPUs (default:
    all of this machine's). A cluster this function started is shut down on exit.

    Raises:
        ReprlearnError: Ray is not installed; no cluster answers at ``address`` (names it
            and the fix).
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
    }
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count() or 1, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = f"at --address {address}" if address else "on this machine"
        raise ReprlearnError(
            f"could not start or join a Ray cluster {where}: {str(e).splitlines()[0]}; "
            "start one with `ray start --head`, pass its address (or auto), or drop --address "
            "to start a local cluster"
        ) from None
    try:
        yield ray
    finally:
        ray.shutdown()


def pool_size(
    ray: Any,
    actors: int | None,
    cpus_per_actor: float,
    gpus_per_actor: float,
    fixed: bool = False,
) -> int:
    """Number of encoder actors: ``actors`` when given, else as many as the cluster's CPUs
    (or GPUs, with ``gpus_per_actor`` > 0) hold, at least 1.

    Args:
        fixed: the cluster cannot grow (a local one started for this run), so a pool
            larger than it is refused instead of waiting forever for resources.

    Raises:
        ReprlearnError: ``gpus_per_actor`` > 0 on a cluster without GPUs; with ``fixed``,
            more actors than the cluster's CPUs hold (names --actors and the CPU count).
    """
    resources = ray.cluster_resources()
    if gpus_per_actor > 0 and resources.get("GPU", 0) < gpus_per_actor:
        raise ReprlearnError(
            f"--gpus-per-actor {gpus_per_actor:g}: the Ray cluster has "
            f"{resources.get('GPU', 0):g} GPU(s); pass --gpus-per-actor 0 to run on CPUs, or "
            "join a cluster with GPUs (--address)"
        )
    if actors is not None:
        cpus = resources.get("CPU", 0)
        if fixed and actors * cpus_per_actor > cpus:
            raise ReprlearnError(
                f"--actors {actors}: the local Ray cluster has {cpus:g} CPUs, room for "
                f"{math.floor(cpus / cpus_per_actor)} actors of {cpus_per_actor:g} CPU; "
                "pass fewer --actors, or join a larger cluster with --address"
            )
        return actors
    if gpus_per_actor > 0:
        return max(1, math.floor(resources["GPU"] / gpus_per_actor))
    return max(1, math.floor(resources.get("CPU", 1) / cpus_per_actor))
