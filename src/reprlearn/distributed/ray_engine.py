"""The Ray Data engine of :func:`reprlearn.embed` (``--engine ray``).

Pipeline: the store's pending shards, cut into chunks of rows
(:func:`reprlearn.distributed.work.plan_chunks`), become a Ray Dataset; ``map_batches``
runs them on a pool of actors (``ActorPoolStrategy``) that each hold the encoder (loaded,
or fitted once on the driver, and shipped through the object store), read their rows of
the source in parallel (the memory-mapped Arrow files of the ``datasets.Dataset``) and
encode them with the local engine's batching loop (:func:`reprlearn.batching.encode_rows`);
the driver gathers each shard's rows and writes them through the same
:class:`reprlearn.store.StoreWriter` as the local engine. So the store is the same: the
same Parquet shards (names, columns, ids, order), manifest, atomic renames and per-shard
resume; vectors equal to the local engine's (fp32: bit-equal when a shard is one chunk,
else within float rounding of a different batch composition).

Fault tolerance is Ray's: a dead actor is restarted and its chunk retried
(``max_restarts=-1``, ``max_task_retries=-1``, Ray Data's defaults); the driver keeps the
first copy of every row and writes a shard only when each of its rows is back exactly
once. A killed driver loses only the shards it had not written: rerunning the same command
resumes.

Source: Ray Data batch inference (docs.ray.io, "End-to-end: Offline Batch Inference").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import torch

from reprlearn.batching import Run, bad_item, encode_rows
from reprlearn.device import PRECISIONS, resolve_device, resolve_precision
from reprlearn.distributed.cluster import pool_size, ray_session
from reprlearn.distributed.work import plan_chunks
from reprlearn.encoders.base import Encoder, TorchEncoder
from reprlearn.encoders.registry import load_encoder
from reprlearn.errors import DataError, ReprlearnError
from reprlearn.store import StoreWriter

ENGINES = ("local", "ray")


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide ``embed --engine ray`` runs.

    Attributes:
        address: a running cluster (``auto``, ``HOST:6379``, ``ray://HOST:10001``); None
            starts a local cluster of ``num_cpus`` CPUs for the run.
        actors: encoder actors in the pool (default: as many as the cluster's CPUs, or
            GPUs / ``gpus_per_actor``).
        gpus_per_actor: GPUs each actor reserves (fractions share a GPU); 0 runs on CPUs.
        cpus_per_actor: CPUs each actor reserves (its torch threads).
        num_cpus: size of a local cluster (default: this machine's cores).
    """

    address: str | None = None
    actors: int | None = None
    gpus_per_actor: float = 0.0
    cpus_per_actor: float = 1.0
    num_cpus: int | None = None

    def check(self) -> None:
        """Raises :class:`DataError` naming the flag when a size is out of range."""
        if self.actors is not None and (isinstance(self.actors, bool) or self.actors < 1):
            raise DataError(
                f"--actors must be an integer >= 1, got {self.actors!r}; e.g. --actors 4"
            )
        if not self.gpus_per_actor >= 0:
            raise DataError(
                f"--gpus-per-actor must be >= 0 (0: CPU actors), got {self.gpus_per_actor!r}"
            )
        if not self.cpus_per_actor > 0:
            raise DataError(f"cpus_per_actor must be > 0, got {self.cpus_per_actor!r}")


def prepare_encoder(
    encoder: Encoder | str, device: str, precision: str, options: RayOptions
) -> tuple[Encoder, str, str]:
    """The driver's encoder (loaded, left on the CPU in fp32: actors move their copy) and
    the device and precision the actors will use, for the manifest.

    ``device="auto"`` means ``cuda`` for GPU actors (``gpus_per_actor`` > 0), else ``cpu``
    (Ray hides GPUs from actors that reserved none). ``precision="auto"`` resolves for
    that device as in the local engine (bf16 on CUDA when the driver cannot check).

    Raises:
        DataError: a CUDA ``device`` with ``gpus_per_actor`` 0, or a CPU one with GPUs.
    """
    enc = load_encoder(encoder) if isinstance(encoder, str) else encoder
    if not isinstance(enc, TorchEncoder):
        return enc, "cpu", "fp32"
    gpu = options.gpus_per_actor > 0
    dev = device if device != "auto" else ("cuda" if gpu else "cpu")
    if dev.startswith("cuda") != gpu:
        raise DataError(
            f"--device {device} with --gpus-per-actor {options.gpus_per_actor:g}: Ray gives "
            "actors only the GPUs they reserve; pass --gpus-per-actor 1 for CUDA actors, or "
            "--device cpu (or auto) for CPU actors"
        )
    if dev.startswith("cuda") and precision == "auto" and not torch.cuda.is_available():
        return enc, dev, "bf16"  # the driver has no GPU to ask; every GPU since Ampere has bf16
    return enc, dev, resolve_precision(precision, torch.device(dev.split(":")[0]))


class EncodeChunks:
    """A Ray Data actor: holds the encoder, reads chunks of source rows and encodes them.

    ``payload``: ``[ray.put((encoder, raw_ds))]``, the encoder (fitted when it needs a fit)
    and the source dataset (memory-mapped Arrow files, pickled by path). Called on a batch
    of chunks ``{"lo": (k,), "rows": (k,)}``; returns one row per
    source row: ``id`` int64 ``(n,)``, ``embedding`` float32 ``(n, dim)`` (zeros for a
    skipped item) and ``reason`` (``""``, or why the item could not be embedded).
    """

    def __init__(
        self,
        payload: list[Any],
        column: str,
        batch_size: int,
        normalize: bool,
        device: str,
        precision: str,
    ) -> None:
        import ray

        encoder, raw_ds = ray.get(payload[0])  # (Encoder, datasets.Dataset), put once
        if isinstance(encoder, TorchEncoder):
            encoder.to(resolve_device(device), PRECISIONS[precision])
        self.raw_ds, self.column = raw_ds, column
        # bad items come back as reasons; the driver raises or skips as the run asks
        self.run = Run(encoder, batch_size, 0, "skip", normalize, str)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ids, vecs, reasons = [], [], []
        for lo, rows in zip(batch["lo"].tolist(), batch["rows"].tolist(), strict=True):
            raw = self.raw_ds[lo : lo + rows][self.column]
            kept, X, skipped = encode_rows(raw, np.arange(lo, lo + rows), self.run, _ignore)
            full = np.zeros((rows, self.run.encoder.dim), np.float32)
            full[kept - lo] = X
            why = np.full(rows, "", dtype=object)
            for item in skipped:
                why[item["id"] - lo] = item["reason"] or "could not be embedded"
            ids.append(np.arange(lo, lo + rows, dtype=np.int64))
            vecs.append(full)
            reasons.append(why)
        return {
            "id": np.concatenate(ids),
            "embedding": np.concatenate(vecs),
            "reason": np.concatenate(reasons),
        }


def _ray_initialized() -> bool:
    import sys

    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


def _ignore(_: int) -> None:
    return None


class _Shard:
    """The rows of one shard as they come back from the actors (first copy kept)."""

    def __init__(self, lo: int, rows: int, dim: int) -> None:
        self.lo = lo
        self.X = np.zeros((rows, dim), np.float32)
        self.reason = np.full(rows, "", dtype=object)
        self.filled = np.zeros(rows, bool)

    def add(self, ids: np.ndarray, X: np.ndarray, reason: np.ndarray) -> int:
        """Store rows not seen yet; returns how many were new."""
        at = ids - self.lo
        new = ~self.filled[at]
        self.X[at[new]], self.reason[at[new]] = X[new], reason[new]
        self.filled[at[new]] = True
        return int(new.sum())

    @property
    def complete(self) -> bool:
        return bool(self.filled.all())


def write_shards_ray(
    writer: StoreWriter,
    run: Run,
    raw_ds: datasets.Dataset,
    column: str,
    labels_all: np.ndarray | None,
    expected: dict[str, int],
    advance: Callable[[int], None],
    options: RayOptions,
    device: str,
    precision: str,
) -> int:
    """Embed every shard of ``expected`` (name -> rows) that ``writer`` has not written
    intact, on a Ray actor pool; returns the number of source rows embedded in this run.

    Raises:
        DataError: a bad item with ``run.on_error == "raise"`` (names its row, as the local
            engine does).
        ReprlearnError: Ray missing, no cluster at ``options.address``, or the Ray run
            failed (the first line of the cause).
    """
    shard_size = writer.manifest["shard_size"]
    pending: dict[int, tuple[int, int]] = {}
    for index, rows in enumerate(expected.values()):
        if writer.done(index, rows):
            advance(rows)
        else:
            pending[index] = (index * shard_size, rows)
    if not pending:
        return 0
    started_here = not _ray_initialized()
    with ray_session(options.address, options.num_cpus) as ray:
        actors = pool_size(
            ray,
            options.actors,
            options.cpus_per_actor,
            options.gpus_per_actor,
            fixed=options.address is None and started_here,
        )
        chunks = plan_chunks(pending, run.batch_size, actors)
        results = _pipeline(ray, chunks, run, raw_ds, column, actors, options, device, precision)
        shards = {i: _Shard(lo, rows, run.encoder.dim) for i, (lo, rows) in pending.items()}
        try:
            for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
                _gather(batch, shards, shard_size, writer, run, labels_all, advance)
        except ReprlearnError:
            raise
        except Exception as e:
            raise _ray_failure(e) from None
    missing = [i for i, s in shards.items() if not s.complete]
    if missing:
        raise ReprlearnError(
            f"the Ray run returned no rows for shard(s) {missing[:5]} of {writer.path}; "
            "rerun the same command to resume"
        )
    return sum(rows for _, rows in pending.values())


def _pipeline(ray, chunks, run, raw_ds, column, actors, options, device, precision):
    """The lazy Ray Dataset: chunks -> actor pool -> rows."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # reprlearn's own bar counts rows
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    # the encoder and the source go to the object store once, one object every actor
    # (and every restarted actor) reads; the driver holds the reference for the whole run
    payload = [ray.put((run.encoder, raw_ds))]
    return ray.data.from_items(chunks, override_num_blocks=len(chunks)).map_batches(
        EncodeChunks,
        fn_constructor_args=(payload, column, run.batch_size, run.normalize, device, precision),
        batch_size=1,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=options.cpus_per_actor,
        num_gpus=options.gpus_per_actor or None,
    )


def _gather(batch, shards, shard_size, writer, run, labels_all, advance) -> None:
    """Add a batch of returned rows to their shards; write each shard that completes."""
    ids = np.asarray(batch["id"], dtype=np.int64)
    X = np.asarray(batch["embedding"], dtype=np.float32).reshape(len(ids), -1)
    reason = np.asarray(batch["reason"], dtype=object)
    for index in np.unique(ids // shard_size).tolist():
        shard = shards.get(index)
        if shard is None or shard.complete:
            continue  # a retried chunk's second copy
        mine = ids // shard_size == index
        advance(shard.add(ids[mine], X[mine], reason[mine]))
        if shard.complete:
            _write(writer, index, shard, run, labels_all)


def _write(writer: StoreWriter, index: int, shard: _Shard, run: Run, labels_all) -> None:
    ids = shard.lo + np.arange(len(shard.filled), dtype=np.int64)
    bad = shard.reason != ""
    skipped = [
        bad_item(run, int(i), str(r)) for i, r in zip(ids[bad], shard.reason[bad], strict=True)
    ]
    X = shard.X[~bad]  # normalised by the actors' encode_rows when the run asks
    kept = ids[~bad]
    labels = labels_all[kept] if labels_all is not None else None
    writer.write_shard(index, kept, X.astype(np.float32), labels, skipped)


def _ray_failure(error: Exception) -> ReprlearnError:
    """A :class:`ReprlearnError` for a failed Ray run: the library's own error when an
    actor raised one, else the root cause Ray reports (its last ``SomeError: message``
    line, e.g. an actor that could not load the encoder)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ReprlearnError):
            return seen
        seen = seen.__cause__ or getattr(seen, "cause", None)
    lines = [_ANSI.sub("", line).strip() for line in str(error).splitlines()]
    causes = [line for line in lines if _CAUSE.match(line)]
    why = causes[-1] if causes else next((x for x in lines if x), type(error).__name__)
    return ReprlearnError(
        f"the Ray embedding run failed: {why}; fix the cause and rerun the same command to "
        "resume (shards already written are kept)"
    )


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CAUSE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt): ")
