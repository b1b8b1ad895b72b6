"""The batching loop of :func:`reprlearn.embed`: raw items of one shard -> float32 vectors.

Items are decoded (and preprocessed, for neural encoders) in DataLoader workers, texts
are sorted by length to cut padding, batches run on the encoder's device and precision,
and the vectors go back to input order. Bad items raise (naming their row) or are
skipped and listed, as the run's ``on_error`` asks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from reprlearn.data.items import BadItem, decode_item, failure_reason
from reprlearn.encoders.base import Encoder, TorchEncoder
from reprlearn.errors import DataError


@dataclass(frozen=True)
class Run:
    """Settings of one embedding run."""

    encoder: Encoder
    batch_size: int
    num_workers: int
    on_error: str
    normalize: bool
    describe: Callable[[int], str]


def default_batch_size(encoder: Encoder) -> int:
    if not isinstance(encoder, TorchEncoder):
        return 4096
    # texts: batches are length-sorted, so large ones pad little and run bigger GEMMs
    return 256 if encoder.modality == "text" else 128


def default_workers(encoder: Encoder) -> int:
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


def encode_rows(raw: Sequence[Any], ids: np.ndarray, run: Run, advance: Callable[[int], None]):
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
