"""Dataset + encoder -> embedding store (or an in-memory array).

``embed`` validates its settings, fits the encoder when it needs a fit (on a bounded
sample, :mod:`reprlearn.fitting`) or reuses a store's fitted state (``store:TRAIN``),
then walks the dataset in shards of ``shard_size`` rows: each shard goes through the
batching loop (:mod:`reprlearn.batching`) and is written atomically. A rerun skips
shards already written and intact, so an interrupted run (Ctrl-C, kill -9) resumes and
ends with the same rows as an uninterrupted one, and a damaged store is repaired.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from reprlearn.batching import (
    Run,
    default_batch_size,
    default_workers,
    encode_rows,
    encode_shards,
    torch_threads,
)
from reprlearn.data.items import decode_item, describe_row
from reprlearn.data.labels import label_array
from reprlearn.data.load import source_spec
from reprlearn.device import PRECISIONS, resolve_device, resolve_precision
from reprlearn.distributed.ray_engine import RayOptions, write_shards_ray
from reprlearn.distributed.ray_engine import prepare_encoder as ray_prepare_encoder
from reprlearn.encoders.backends import BackendUnavailableError, choose_backend
from reprlearn.encoders.base import Encoder, TorchEncoder
from reprlearn.encoders.fingerprint import fitted_state_fingerprint, weights_fingerprint
from reprlearn.encoders.registry import load_encoder
from reprlearn.errors import DataError, StoreError
from reprlearn.fitting import fit_items, fit_or_restore, save_state
from reprlearn.progress import progress_bar
from reprlearn.store import EmbeddingStore, StoreWriter, expected_shards, find_complete
from reprlearn.versions import library_versions

ON_ERROR = ("raise", "skip")
# the names benchmarks/embed_*.py import
_default_batch_size, _default_workers = default_batch_size, default_workers


def _prepare_encoder(
    encoder: Encoder | str,
    device: str,
    precision: str,
    backend: str = "auto",
    sample_texts: Callable[[], list[str]] | None = None,
) -> tuple[Encoder, str, str]:
    enc = load_encoder(encoder) if isinstance(encoder, str) else encoder
    dev = resolve_device(device)  # a bad --device is an error for every encoder
    _, runs = choose_backend(enc, backend, precision, sample_texts)
    if runs is not None:  # onnx/openvino: their exported fp32 or int8 model, on the CPU
        if device not in ("auto", "cpu"):
            raise BackendUnavailableError(
                f"--backend {enc.backend} runs on the CPU, not --device {device}: use "
                "--device cpu (or auto), or --backend torch on the GPU"
            )
        enc.to("cpu")
        return enc, "cpu", runs
    if not isinstance(enc, TorchEncoder):
        return enc, "cpu", "fp32"
    prec = resolve_precision(precision, dev)
    enc.to(dev, PRECISIONS[prec])
    return enc, str(dev), prec


CHECK_SAMPLE = 300  # texts that calibrate (OpenVINO) and check --precision int8


def check_texts(dataset: datasets.Dataset, n: int = CHECK_SAMPLE) -> list[str]:
    """Up to ``n`` non-empty texts spread evenly over ``dataset``'s ``text`` column (the
    sample ``--precision int8`` is calibrated and quality-checked on); [] without one."""
    if "text" not in dataset.column_names:
        return []
    step = max(1, dataset.num_rows // n)
    rows = dataset.select(range(0, dataset.num_rows, step)[:n])["text"]
    return [t for t in rows if isinstance(t, str) and t.strip()]


def _check_column(ds: datasets.Dataset, enc: Encoder) -> str:
    column = enc.modality
    if column not in ds.column_names:
        raise DataError(
            f"encoder {enc.name!r} reads {column!r} items but the dataset has columns "
            f"{ds.column_names}; choose an encoder for this data, or name the column "
            f"(--text-column)"
        )
    return column


def check_settings(
    batch_size: int | None, shard_size: int, num_workers: int | None, on_error: str
) -> None:
    """Validate ``embed``'s numeric options before any work (so bad settings never
    write an empty "complete" store).

    Raises:
        DataError: a size that is not an integer >= 1 (``num_workers``: >= 0), or an
            unknown ``on_error``; the message names the option and its CLI flag.
    """
    if on_error not in ON_ERROR:
        raise DataError(f"on_error (--on-error) must be one of {ON_ERROR}, not {on_error!r}")
    for name, value, low in (
        ("batch_size", batch_size, 1),
        ("shard_size", shard_size, 1),
        ("num_workers", num_workers, 0),
    ):
        if value is None and name != "shard_size":
            continue
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            flag = "--" + name.replace("_", "-")
            raise DataError(
                f"{name} ({flag}) must be an integer >= {low}, got {value!r}; "
                f"pass e.g. {flag} {max(low, 1) if name != 'shard_size' else 8192}"
            )


def _identity(enc: Encoder, dataset: datasets.Dataset) -> dict[str, Any]:
    """Header fields that say which encoder state and weights made a store."""
    fitted = getattr(enc, "fitted_from", None)  # set by the `store:` family
    name = fitted["encoder_name"] if fitted else enc.name
    return {
        "encoder_name": name,
        "weights_fingerprint": weights_fingerprint(name) if name else None,
        "fitted_from": fitted["store"] if fitted else None,
        "fitted_state_fingerprint": fitted["fitted_state_fingerprint"] if fitted else None,
    }


def embed(
    dataset: datasets.Dataset,
    encoder: Encoder | str,
    out: str | Path | None = None,
    *,
    batch_size: int | None = None,
    device: str = "auto",
    precision: str = "auto",
    normalize: bool = False,
    num_workers: int | None = None,
    shard_size: int = 8192,
    on_error: str = "raise",
    overwrite: bool = False,
    progress: bool = True,
    engine: str = "local",
    ray: RayOptions | None = None,
    backend: str = "auto",
) -> EmbeddingStore:
    """Embed every row of ``dataset`` with ``encoder`` into an embedding store at ``out``.

    Args:
        dataset: from :func:`reprlearn.load_dataset` (``image`` or ``text`` column, optional
            ``label``); at least one row.
        encoder: an :class:`Encoder` or a registry name (``"pca:32"``, ``"minilm"``).
            ``"store:TRAIN"`` (or ``load_encoder("store:TRAIN")``) reuses the fitted state
            of the store TRAIN instead of fitting, so a test split lands in TRAIN's space.
        out: the store folder; a temporary folder when None.
        batch_size: items per forward pass, >= 1 (default for text: batches of
            length-sorted texts cut by a token budget, :func:`reprlearn.batching.token_budget`;
            128 for images, 4096 for classical encoders).
        device: ``auto`` (cuda > mps > cpu) or a torch device string.
        precision: ``auto`` (bf16 on CUDA and AMX/AVX512-BF16 CPUs, else fp32),
            ``fp32``, ``bf16``, ``fp16``: the dtype of a neural encoder's weights; ``int8``:
            an ``st:`` model quantised for the onnx/openvino backend, used only when it
            measures mean cosine >= 0.99 and pair-similarity Spearman >= 99.5 to fp32 on
            up to 128 of the dataset's texts (:mod:`reprlearn.encoders.int8_quality`; the
            measurement is in the manifest's ``encoder.backend_run``). onnx/openvino run
            fp32 under ``auto``. Outputs are always float32.
        normalize: L2-normalise the vectors.
        num_workers: DataLoader workers decoding images, >= 0 (default: half the cores).
        shard_size: rows per Parquet shard (the unit of resumption), >= 1.
        on_error: ``raise`` (default) stops at the first bad item naming its row; ``skip``
            leaves bad items out and lists them (id, reason) in the manifest.
        overwrite: replace an existing store at ``out`` (only a reprlearn store; never
            the working directory, its parents or the home folder).
        engine: ``local`` (this process) or ``ray``: a Ray Data actor pool
            (:mod:`reprlearn.distributed.ray_engine`) writing the same store, resumable the
            same way; fitted encoders are fitted once here and shipped to the actors.
        ray: cluster address and pool size for ``engine="ray"``
            (:class:`reprlearn.distributed.RayOptions`; default: a local cluster, one
            actor per CPU).
        backend: ``auto`` (the fastest measured backend installed here), ``torch``,
            ``onnx`` or ``openvino`` (``st:`` encoders, sentence-transformers' backends;
            :mod:`reprlearn.encoders.backends`); the manifest records it
            (``encoder.backend``, ``encoder.backend_choice``).

    A rerun of the same command reuses a complete, intact store, resumes an interrupted
    one, and repairs a damaged one (re-embedding only missing or altered shards). A store
    whose earlier run completed no shard is replaced without ``overwrite``.

    Returns:
        The finished :class:`EmbeddingStore`; ``store.to_numpy()`` gives float32
        ``(n, dim)`` rows in source order (skipped rows left out, see ``store.ids()``).

    Raises:
        DataError: a bad setting (names the option), an empty dataset, a bad item (with
            ``on_error="raise"``) or a column the encoder can't read.
        StoreError: ``out`` holds a store made differently (says what changed).
        OutputError: ``out`` holds files reprlearn did not write, or another process is
            writing it.
    """
    check_settings(batch_size, shard_size, num_workers, on_error)
    if engine not in ("local", "ray"):
        raise DataError(f"engine (--engine) must be local or ray, not {engine!r}")
    if engine == "ray":
        ray = ray or RayOptions()
        ray.check()
    if dataset.num_rows == 0:
        raise DataError(
            f"the source {source_spec(dataset) or ''} has no rows: nothing to embed; check "
            "the file, --split or --label-column"
        )
    if engine == "ray":
        enc, dev, prec = ray_prepare_encoder(encoder, device, precision, ray)
    else:
        enc, dev, prec = _prepare_encoder(
            encoder, device, precision, backend, lambda: check_texts(dataset)
        )
    column = _check_column(dataset, enc)
    raw_ds = dataset
    if column == "image":
        raw_ds = dataset.cast_column("image", datasets.Image(decode=False))
    spec = source_spec(dataset)
    run = Run(
        enc,
        batch_size or default_batch_size(enc),
        default_workers(enc) if num_workers is None else num_workers,
        on_error,
        normalize,
        lambda row: describe_row(raw_ds, row, spec),
        token_budget=None if batch_size else "auto",
    )
    label_feature = dataset.features.get("label")
    label_names = getattr(label_feature, "names", None)
    header = {
        **_identity(enc, dataset),
        "source_fingerprint": dataset._fingerprint,
        "source": {
            "spec": spec,
            "fingerprint": dataset._fingerprint,
            "num_rows": dataset.num_rows,
            "column": column,
        },
        "label_names": label_names,
        "normalized": normalize,
        "precision": prec,
        "device": dev,
        "dtype": "float32",
        "shard_size": shard_size,
        "batch_size": run.batch_size,
        "engine": engine,
    }
    out = Path(out) if out is not None else Path(_tempdir())
    if not overwrite and (done := find_complete(out, header)) is not None:
        return done  # the same command ran to completion before: nothing to do
    with StoreWriter(out, header, overwrite=overwrite) as writer:
        try:
            fit = _fit(writer, run, raw_ds, column)
        except DataError as e:  # e.g. tfidf: no words; name the source it was fitted on
            where = (spec or {}).get("source")
            raise DataError(f"{where}: {e}" if where and where not in str(e) else str(e)) from None
        engine_run = (ray, dev, prec) if engine == "ray" else None
        return _write_shards(writer, run, dataset, raw_ds, column, progress, fit, engine_run)


def _fit(writer: StoreWriter, run: Run, raw_ds: datasets.Dataset, column: str) -> dict[str, Any]:
    """Fit (or restore, or reuse) the encoder's state; the manifest's fit facts."""
    enc, state_dir = run.encoder, writer.encoder_state_dir
    if writer.manifest.get("fitted_from"):
        if not state_dir.is_dir() and enc.requires_fit:
            save_state(enc, state_dir)  # the store carries its state: usable as --fitted-from
        record = {"fitted_from": writer.manifest["fitted_from"]}
    elif enc.requires_fit:
        items = lambda: fit_items(raw_ds, column, enc, run.on_error, run.describe)  # noqa: E731
        record = fit_or_restore(enc, state_dir, items) or writer.previous.get("fit")
    else:
        record = None
    return {"fit": record, "fitted_state_fingerprint": fitted_state_fingerprint(state_dir)}


def _write_shards(
    writer: StoreWriter,
    run: Run,
    dataset: datasets.Dataset,
    raw_ds: datasets.Dataset,
    column: str,
    progress: bool,
    fit: dict[str, Any],
    ray_run: tuple[RayOptions, str, str] | None = None,
) -> EmbeddingStore:
    """Embed every shard not already intact on disk (here, or on Ray when ``ray_run`` =
    (options, device, precision)), then finish the store."""
    enc, n, shard_size = run.encoder, dataset.num_rows, writer.manifest["shard_size"]
    expected = expected_shards(n, shard_size)
    writer.remove_extra_shards(set(expected))
    labels_all = label_array(dataset) if writer.manifest["label_names"] is not None else None
    start, done_now = time.perf_counter(), 0
    with progress_bar(f"embed {enc.name}", total=n, enabled=progress) as advance:
        if ray_run is not None:
            done_now = write_shards_ray(
                writer, run, raw_ds, column, labels_all, expected, advance, *ray_run
            )
        pending = []
        for index, rows in enumerate(expected.values() if ray_run is None else ()):
            if writer.done(index, rows):
                advance(rows)
            else:
                pending.append((index, index * shard_size, rows))
        for index, ids, X, skipped in encode_shards(raw_ds, column, pending, run, advance):
            labels = labels_all[ids] if labels_all is not None else None
            writer.write_shard(index, ids, X, labels, skipped)
            done_now += len(ids) + len(skipped)  # every row of the shard: kept or skipped
    seconds = time.perf_counter() - start
    covered = sum(r["rows"] + r["skipped"] for r in writer.records.values())
    if covered != n:  # never mark a store complete that lost rows
        raise StoreError(
            f"{writer.path}: its shards cover {covered} of {n} rows; rerun the same command "
            "to repair it, or pass --overwrite"
        )
    return writer.finish(
        {
            **fit,
            "dim": enc.dim,
            "encoder": enc.describe(),
            "versions": library_versions(),
            "timing": {
                "threads": torch_threads(enc),
                "seconds": round(seconds, 3),
                "items": done_now,
                "items_per_s": done_now / seconds if done_now and seconds > 0 else None,
            },
        }
    )


def _tempdir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="reprlearn-store-")


def encode_items(
    encoder: Encoder | str,
    items: Sequence[Any],
    *,
    batch_size: int | None = None,
    device: str = "auto",
    precision: str = "auto",
    normalize: bool = False,
    progress: bool = False,
    backend: str = "auto",
) -> np.ndarray:
    """Embed an in-memory list of items (PIL images or strings): float32 ``(n, dim)``.

    A fitted encoder that is not fitted yet is fitted on ``items`` first. Bad items raise
    :class:`DataError` naming their position, as does a ``batch_size`` below 1.
    """
    check_settings(batch_size, 1, 0, "raise")
    texts = lambda: [x for x in items if isinstance(x, str)][:CHECK_SAMPLE]  # noqa: E731
    enc, _, _ = _prepare_encoder(encoder, device, precision, backend, texts)
    run = Run(
        enc,
        batch_size or default_batch_size(enc),
        0,
        "raise",
        normalize,
        lambda row: f"item {row}",
        token_budget=None if batch_size else "auto",
    )
    if enc.requires_fit and not getattr(enc, "fitted_", False):
        enc.fit([decode_item(x, enc.modality) for x in items])
    with progress_bar(f"embed {enc.name}", total=len(items), enabled=progress) as advance:
        _, X, _ = encode_rows(list(items), np.arange(len(items)), run, advance)
    return X
