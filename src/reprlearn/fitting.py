"""Fitting a classical encoder for an embedding store, with memory bounded in N.

Encoders fitted on the data (``pixels``, ``pca:D``, ``random-projection:D``,
``dictionary:D``, ``tfidf``, ``lsa:D``) are fitted once per store, then every row is
streamed through the fitted encoder shard by shard. Image encoders are fitted on a
**seeded random sample** of at most ``encoder.fit_max_items`` rows (default
:data:`FIT_MAX_ITEMS` = 10,000 for image encoders; ``pixels`` needs only the first
image), so the fit's memory does not grow with the dataset (a 50,000-image PCA fit
needs 10,000 x 3,072 floats, not 50,000 x 3,072). Text encoders (TF-IDF vocabularies)
fit on every row: texts are small and a vocabulary fitted on a sample would drop terms.
What was used is recorded in the manifest under ``"fit"``.

The fitted state is saved in ``STORE/encoder`` (restored when an interrupted run
resumes) and fingerprinted (:func:`reprlearn.encoders.fingerprint.fitted_state_fingerprint`)
so two stores can be checked to live in one space.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from reprlearn.data.items import decode_item, failure_reason
from reprlearn.encoders.base import Encoder
from reprlearn.errors import DataError

FIT_MAX_ITEMS = 10_000
FIT_SEED = 0


def fit_max_items(encoder: Encoder) -> int | None:
    """Most rows ``encoder`` is fitted on (None: all rows)."""
    default = FIT_MAX_ITEMS if encoder.modality == "image" else None
    return getattr(encoder, "fit_max_items", default)


def fit_rows(n: int, max_items: int | None, seed: int = FIT_SEED) -> np.ndarray:
    """Sorted row indices to fit on: all ``n`` rows, or a seeded random sample of
    ``max_items`` rows that always includes row 0 (so ``pixels`` keeps the first image's
    size and mode). int64 ``(min(n, max_items),)``."""
    if max_items is None or n <= max_items:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    rest = rng.choice(np.arange(1, n), size=max_items - 1, replace=False)
    return np.sort(np.concatenate([[0], rest])).astype(np.int64)


def fit_items(
    ds: datasets.Dataset,
    column: str,
    encoder: Encoder,
    on_error: str,
    describe: Callable[[int], str],
) -> tuple[list[Any], dict[str, Any]]:
    """The decoded items to fit ``encoder`` on and the manifest's ``"fit"`` record
    (``n_items``, ``of_rows``, ``sample``). Bad items raise :class:`DataError` naming
    their row (``on_error="raise"``) or are left out (``"skip"``)."""
    rows = fit_rows(ds.num_rows, fit_max_items(encoder))
    raw = ds[column] if len(rows) == ds.num_rows else ds.select(rows)[column]
    good: list[Any] = []
    for row, item in zip(rows.tolist(), raw, strict=True):
        try:
            good.append(decode_item(item, encoder.modality))
        except Exception as e:
            if on_error == "raise":
                raise DataError(
                    f"{describe(row)}: {failure_reason(e)}. Fix it, or pass --on-error skip"
                ) from None
    if not good:
        raise DataError(f"no decodable item to fit {encoder.name!r} on; check the source")
    sample = (
        "all rows"
        if len(rows) == ds.num_rows
        else f"seeded random sample (seed {FIT_SEED}, row 0 included)"
    )
    return good, {"n_items": len(good), "of_rows": ds.num_rows, "sample": sample}


def save_state(encoder: Encoder, state_dir: Path) -> None:
    """Save ``encoder``'s fitted state to ``state_dir`` atomically (a dot-folder renamed)."""
    tmp = state_dir.with_name(".encoder.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    encoder.save(tmp)
    shutil.rmtree(state_dir, ignore_errors=True)
    os.replace(tmp, state_dir)


def fit_or_restore(
    encoder: Encoder, state_dir: Path, items: Callable[[], tuple[list[Any], dict[str, Any]]]
) -> dict[str, Any] | None:
    """Load a fitted state saved by an earlier (interrupted) run, else fit on ``items()``
    and save it. Returns the ``"fit"`` record of a new fit, None when restored."""
    if (state_dir / "state.json").is_file():
        encoder.load(state_dir)
        return None
    good, record = items()
    encoder.fit(good)
    del good
    save_state(encoder, state_dir)
    return record
