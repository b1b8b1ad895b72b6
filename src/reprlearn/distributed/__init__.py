"""Scale-out of ``embed`` on Ray Data (``reprlearn embed ... --engine ray``).

* :mod:`reprlearn.distributed.cluster`: start a local Ray cluster or connect to one
  (``--address auto``), and size the actor pool (``--actors``, ``--gpus-per-actor``).
* :mod:`reprlearn.distributed.work`: the pending shards of a store cut into work chunks.
* :mod:`reprlearn.distributed.ray_engine`: the Ray Data pipeline (chunks -> actors that
  hold the encoder, read their rows and encode them -> the driver, which writes the same
  Parquet shards and manifest as the local engine through :class:`reprlearn.store.StoreWriter`).
"""

from __future__ import annotations

__all__ = ["RayOptions", "write_shards_ray"]


def __getattr__(name: str):
    if name in __all__:
        from reprlearn.distributed import ray_engine

        return getattr(ray_engine, name)
    raise AttributeError(name)
