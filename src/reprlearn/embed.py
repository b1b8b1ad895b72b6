"""The batching loop: dataset + encoder -> embedding store (or an in-memory array).

``embed`` walks the dataset in shards of ``shard_size`` rows. Within a shard, items are
decoded (and preprocessed, for neural encoders) in DataLoader workers, texts are sorted
by length to cut padding, batches run on the chosen device and precision, and the
vectors go back to input order before the shard is written atomically. A rerun skips
shards already written, so an interrupted run (Ctrl-C, kill -9) resumes and ends with
the same rows as an uninterrupted one.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from torch.utils.data import DataLoader

from reprlearn.data.items import BadItem, decode_item, describe_row, failure_reason
from reprlearn.data.load import source_spec
from reprlearn.device import PRECISIONS, resolve_device, resolve_precision
from reprlearn.encoders.base import Encoder, TorchEncoder
from reprlearn.encoders.registry import load_encoder
from reprlearn.errors import DataError
from reprlearn.progress import progress_bar
from reprlearn.store import EmbeddingStore, StoreWriter, find_complete
from reprlearn.versions import library_versions

ON_ERROR = ("raise", "skip")


@dataclass(frozen=True)
class _Run:
    """Settings of one embedding run."""

    encoder: Encoder
    batch_size: int
    num_workers: int
    on_error: str
    normalize: bool
    describe: Callable[[int], str]


def _default_batch_size(encoder: Encoder) -> int:
    if not isinstance(encoder, TorchEncoder):
        return 4096
    # texts: batches are length-sorted, so large ones pad little and run bigger GEMMs
    return 256 if encoder.modality == "text" else 128


def _default_workers(encoder: Encoder) -> int:
    if not isinstance(encoder, TorchEncoder) or encoder.modality == "text":
        return 0
    return max(1, min(8, (os.cpu_count() or 2) // 2))


class _Rows(torch.utils.data.Dataset):
    """Raw items of some rows -> (row id, prepared item or BadItem), in DataLoader workers."""

    def __init__(self, raw: Sequence[Any], ids: np.ndarray, prepare: Callable[[Any], Any]) -> None:
        self.raw, self.ids, self.prepare = raw, ids, prepare

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, j: int) -> tuple[int, Any]:
        try:
            return int(self.ids[j]), self.prepare(self.raw[j])
        except Exception as e:  # a corrupt image, an empty text: judged in the main process
            return int(self.ids[j]), BadItem(failure_reason(e))


class _Collate:
    """Splits good items from bad ones and collates the good ones (runs in workers)."""

    def __init__(self, collate: Callable[[list[Any]], Any] | None) -> None:
        self.collate = collate

    def __call__(self, batch: list[tuple[int, Any]]):
        good = [(i, x) for i, x in batch if not isinstance(x, BadItem)]
        bad = [(i, x) for i, x in batch if isinstance(x, BadItem)]
        items = [x for _, x in good]
        collated = self.collate(items) if (self.collate and items) else items
        return [i for i, _ in good], collated, bad


def _batches(encoder: Encoder, raw: Sequence[Any], batch_size: int) -> list[list[int]]:
    """Index batches; texts sorted by length (longest first) so batches pad little."""
    order = np.arange(len(raw))
    if isinstance(encoder, TorchEncoder) and encoder.modality == "text":
        lengths = _text_lengths(encoder, raw)
        order = np.argsort(-lengths, kind="stable")
    return [order[s : s + batch_size].tolist() for s in range(0, len(raw), batch_size)]


def _text_lengths(encoder: TorchEncoder, raw: Sequence[Any]) -> np.ndarray:
    """Sort keys of texts: the encoder's batched ``lengths`` (e.g. token counts) when it
    has one, else its per-item ``length``; non-strings (bad items) get 0."""
    batched = getattr(encoder, "lengths", None)
    if batched is not None:
        texts = [x if isinstance(x, str) else "" for x in raw]
        return np.asarray(batched(texts), dtype=np.int64)
    return np.array([encoder.length(x) if isinstance(x, str) else 0 for x in raw])


def _encode_rows(raw: Sequence[Any], ids: np.ndarray, run: _Run, advance: Callable[[int], None]):
    """Embed ``raw`` items; returns (kept ids in input order, float32 (n, dim), skipped)."""
    enc = run.encoder
    neural = isinstance(enc, TorchEncoder)
    modality = enc.modality

    def prepare(item: Any) -> Any:
        value = decode_item(item, modality)
        return enc.preprocess(value) if neural else value

    loader = DataLoader(
        _Rows(raw, ids, prepare),
        batch_sampler=_batches(enc, raw, run.batch_size),
        collate_fn=_Collate(enc.collate if neural else None),
        num_workers=run.num_workers,
        persistent_workers=False,
    )
    out_ids: list[int] = []
    out_vecs: list[np.ndarray] = []
    skipped: list[dict[str, Any]] = []
    with torch.inference_mode():
        for good_ids, batch, bad in loader:
            for row, item in bad:
                if run.on_error == "raise":
                    raise DataError(
                        f"{run.describe(row)}: {item.reason}. Fix it, or pass --on-error skip "
                        "to skip such items (they are counted in the manifest)"
                    )
                skipped.append({"id": row, "reason": item.reason})
            if good_ids:
                vecs = (
                    enc.forward(enc.move(batch)).float().cpu().numpy()
                    if neural
                    else enc.encode(batch)
                )
                out_ids += good_ids
                out_vecs.append(np.asarray(vecs, dtype=np.float32))
            advance(len(good_ids) + len(bad))
    dim = enc.dim
    X = np.concatenate(out_vecs) if out_vecs else np.zeros((0, dim), np.float32)
    order = np.argsort(np.asarray(out_ids, dtype=np.int64), kind="stable")
    X = X[order]
    if run.normalize and len(X):
        X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    return np.asarray(out_ids, dtype=np.int64)[order], X.astype(np.float32), skipped


def _prepare_encoder(
    encoder: Encoder | str, device: str, precision: str
) -> tuple[Encoder, str, str]:
    enc = load_encoder(encoder) if isinstance(encoder, str) else encoder
    dev = resolve_device(device)  # a bad --device is an error for every encoder
    if not isinstance(enc, TorchEncoder):
        return enc, "cpu", "fp32"
    prec = resolve_precision(precision, dev)
    enc.to(dev, PRECISIONS[prec])
    return enc, str(dev), prec


def _fit_items(ds: datasets.Dataset, column: str, run: _Run) -> list[Any]:
    """All decodable items of the column (bad ones raise or are left out, as asked)."""
    raw = ds[column]
    good: list[Any] = []
    for row, item in enumerate(raw):
        try:
            good.append(decode_item(item, run.encoder.modality))
        except Exception as e:
            if run.on_error == "raise":
                raise DataError(
                    f"{run.describe(row)}: {failure_reason(e)}. Fix it, or pass --on-error skip"
                ) from None
    return good


def _check_column(ds: datasets.Dataset, enc: Encoder) -> str:
    column = enc.modality
    if column not in ds.column_names:
        raise DataError(
            f"encoder {enc.name!r} reads {column!r} items but the dataset has columns "
            f"{ds.column_names}; choose an encoder for this data, or name the column "
            f"(--text-column)"
        )
    return column


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
) -> EmbeddingStore:
    """Embed every row of ``dataset`` with ``encoder`` into an embedding store at ``out``.

    Args:
        dataset: from :func:`reprlearn.load_dataset` (``image`` or ``text`` column, optional
            ``label``).
        encoder: an :class:`Encoder` or a registry name (``"pca:32"``, ``"minilm"``).
        out: the store folder; a temporary folder when None.
        batch_size: items per forward pass (default 64 for text, 128 for images).
        device: ``auto`` (cuda > mps > cpu) or a torch device string.
        precision: ``auto`` (bf16 on CUDA and AMX/AVX512-BF16 CPUs, else fp32),
            ``fp32``, ``bf16``, ``fp16``: the dtype of a neural encoder's weights. Outputs
            are always float32.
        normalize: L2-normalise the vectors.
        num_workers: DataLoader workers decoding images (default: half the cores).
        shard_size: rows per Parquet shard (the unit of resumption).
        on_error: ``raise`` (default) stops at the first bad item naming its row; ``skip``
            leaves bad items out and lists them (id, reason) in the manifest.
        overwrite: delete an existing store at ``out`` first.

    Returns:
        The finished :class:`EmbeddingStore`; ``store.to_numpy()`` gives float32
        ``(n, dim)`` rows in source order (skipped rows left out, see ``store.ids()``).

    Raises:
        DataError: a bad item (with ``on_error="raise"``) or a column the encoder can't read.
        StoreError: ``out`` holds a store of another encoder or source.
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, not {on_error!r}")
    enc, dev, prec = _prepare_encoder(encoder, device, precision)
    column = _check_column(dataset, enc)
    raw_ds = dataset
    if column == "image":
        raw_ds = dataset.cast_column("image", datasets.Image(decode=False))
    spec = source_spec(dataset)
    run = _Run(
        enc,
        batch_size or _default_batch_size(enc),
        _default_workers(enc) if num_workers is None else num_workers,
        on_error,
        normalize,
        lambda row: describe_row(raw_ds, row, spec),
    )
    label_feature = dataset.features.get("label")
    label_names = getattr(label_feature, "names", None)
    header = {
        "encoder_name": enc.name,
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
    }
    out = Path(out) if out is not None else Path(_tempdir())
    if not overwrite and (done := find_complete(out, header)) is not None:
        return done  # the same command ran to completion before: nothing to do
    writer = StoreWriter(out, header, overwrite=overwrite)
    if enc.requires_fit:
        _fit_or_restore(enc, writer.encoder_state_dir, lambda: _fit_items(raw_ds, column, run))
    n = dataset.num_rows
    labels_all = np.asarray(dataset["label"]) if label_names is not None else None
    start, done_now = time.perf_counter(), 0
    with progress_bar(f"embed {enc.name}", total=n, enabled=progress) as advance:
        for index in range(math.ceil(n / shard_size)):
            lo, hi = index * shard_size, min(n, (index + 1) * shard_size)
            if writer.done(index):
                advance(hi - lo)
                continue
            ids, X, skipped = _encode_rows(raw_ds[lo:hi][column], np.arange(lo, hi), run, advance)
            labels = labels_all[ids] if labels_all is not None else None
            writer.write_shard(index, ids, X, labels, skipped)
            done_now += hi - lo
    seconds = time.perf_counter() - start
    return writer.finish(
        {
            "dim": enc.dim,
            "encoder": enc.describe(),
            "versions": library_versions(),
            "timing": {
                "seconds": round(seconds, 3),
                "items": done_now,
                "items_per_s": done_now / seconds if done_now and seconds > 0 else None,
            },
        }
    )


def _fit_or_restore(enc: Encoder, state_dir: Path, items: Callable[[], list[Any]]) -> None:
    """Load a fitted state saved by an earlier (interrupted) run, else fit and save it."""
    if (state_dir / "state.json").is_file():
        enc.load(state_dir)
        return
    enc.fit(items())
    tmp = state_dir.with_name(".encoder.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    enc.save(tmp)
    os.replace(tmp, state_dir)


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
) -> np.ndarray:
    """Embed an in-memory list of items (PIL images or strings): float32 ``(n, dim)``.

    A fitted encoder that is not fitted yet is fitted on ``items`` first. Bad items raise
    :class:`DataError` naming their position.
    """
    enc, _, _ = _prepare_encoder(encoder, device, precision)
    run = _Run(
        enc,
        batch_size or _default_batch_size(enc),
        0,
        "raise",
        normalize,
        lambda row: f"item {row}",
    )
    if enc.requires_fit and not getattr(enc, "fitted_", False):
        enc.fit([decode_item(x, enc.modality) for x in items])
    with progress_bar(f"embed {enc.name}", total=len(items), enabled=progress) as advance:
        _, X, _ = _encode_rows(list(items), np.arange(len(items)), run, advance)
    return X
