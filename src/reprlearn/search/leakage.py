"""Train/test leakage: items of OTHER (e.g. a test split) with a near-duplicate in the
store (e.g. the training split), and what they do to a benchmark score.

Each OTHER item's nearest store item comes from the store's index (or exact search);
it is *leaked* when their cosine is >= ``threshold``. When both stores are labelled, a
linear probe (:class:`reprlearn.evaluation.linear_probe.LinearProbe`) is trained on the
store and scored on all of OTHER and on OTHER without the leaked items, because
near-copies of training items inflate test accuracy (Barz & Denzler 2020, "Do we train
on test data? Purging CIFAR of near-duplicates", found 3.3% of CIFAR-10's test images
have a near-duplicate in its training set).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reprlearn.errors import StoreError
from reprlearn.outdir import prepare_out_dir, write_json_atomic, writer_lock
from reprlearn.search.contact_sheet import contact_sheet
from reprlearn.search.duplicates import check_cosine
from reprlearn.search.items import load_items
from reprlearn.search.neighbors import knn
from reprlearn.search.shards import iter_shards
from reprlearn.store import EmbeddingStore

CSV_COLUMNS = (
    "other_id", "other_label", "other_item", "store_id", "store_label", "store_item", "cosine",
)  # fmt: skip


@dataclass
class Leakage:
    """What :func:`find_leakage` found.

    Attributes:
        pairs: one dict per leaked OTHER item: ``other_id``, ``store_id``, ``cosine``,
            most similar first.
        num_other: items of OTHER; threshold: cosine threshold; method: index or exact.
        accuracy_all / accuracy_clean: linear-probe accuracy (trained on the store) on all
            of OTHER / on OTHER without leaked items; None without labels.
        files, notes: written files and things to know.
    """

    pairs: list[dict[str, Any]]
    num_other: int
    threshold: float
    method: str
    accuracy_all: float | None = None
    accuracy_clean: float | None = None
    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def num_leaked(self) -> int:
        return len(self.pairs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "num_other": self.num_other,
            "num_leaked": self.num_leaked,
            "leaked_share": self.num_leaked / max(1, self.num_other),
            "threshold": self.threshold,
            "method": self.method,
            "probe_accuracy_all": self.accuracy_all,
            "probe_accuracy_without_leaked": self.accuracy_clean,
            "pairs": self.pairs,
            "files": self.files,
            "notes": self.notes,
        }


def find_leakage(
    store: EmbeddingStore | str | Path,
    other: EmbeddingStore | str | Path,
    out: str | Path | None = None,
    *,
    threshold: float = 0.95,
    probe: bool = True,
    overwrite: bool = False,
) -> Leakage:
    """Items of ``other`` with a near-duplicate (cosine >= ``threshold``) in ``store``.

    Args:
        store: the reference store (training split); its index is used when present.
        other: the store checked (test split), embedded in the same space.
        out: folder for ``leakage.csv``, ``leakage.png``, ``leakage.json`` (or None).
        threshold: cosine at or above which an item counts as leaked (default 0.95).
        probe: with labels on both, score a linear probe with and without leaked items.
        overwrite: replace an existing leakage folder at ``out``.

    Raises:
        StoreError: the two stores are not in one embedding space (other encoder,
            normalisation or fitted state); the message gives the fix.
    """
    store = store if isinstance(store, EmbeddingStore) else EmbeddingStore.open(store)
    other = other if isinstance(other, EmbeddingStore) else EmbeddingStore.open(other)
    from reprlearn.store_identity import same_space

    if (why := same_space(store, other)) is not None:
        raise StoreError(why)
    check_cosine(store, threshold)
    pairs, method, other_ids = [], "exact", []
    for shard in iter_shards(other):
        scores, ids, method = knn(store, shard.X, 1)
        other_ids.append(shard.ids)
        for o, s, i in zip(shard.ids, scores[:, 0], ids[:, 0], strict=True):
            if i >= 0 and s >= threshold:
                pairs.append({"other_id": int(o), "store_id": int(i), "cosine": round(float(s), 4)})
    pairs.sort(key=lambda p: -p["cosine"])
    result = Leakage(pairs, len(other), threshold, method)
    if probe and store.has_labels and other.has_labels:
        result.accuracy_all, result.accuracy_clean = _probe(
            store, other, {p["other_id"] for p in pairs}
        )
    if out is not None:
        _write(store, other, result, Path(out), overwrite)
    return result


def _probe(store: EmbeddingStore, other: EmbeddingStore, leaked: set[int]) -> tuple[float, float]:
    from reprlearn.evaluation.linear_probe import LinearProbe

    X, y = store.to_numpy()
    Xo, yo = other.to_numpy()
    model = LinearProbe().fit(X, y)
    keep = ~np.isin(other.ids(), list(leaked))
    right = model.predict(Xo) == yo
    return round(float(right.mean()), 4), round(float(right[keep].mean()), 4)


def _write(store, other, result: Leakage, out: Path, overwrite: bool) -> None:
    from reprlearn.search.query import _labels
    from reprlearn.tables import write_csv

    prepare_out_dir(out, kind="leakage", overwrite=overwrite)
    with writer_lock(out):
        o_ids = [p["other_id"] for p in result.pairs]
        s_ids = [p["store_id"] for p in result.pairs]
        o_items, s_items = load_items(other, o_ids), load_items(store, s_ids)
        o_lab, s_lab = _labels(other, o_ids), _labels(store, s_ids)
        rows = [
            {"other_id": p["other_id"], "other_label": o_lab.get(p["other_id"]),
             "other_item": o_items.text.get(p["other_id"], ""), "store_id": p["store_id"],
             "store_label": s_lab.get(p["store_id"]), "store_item": s_items.text.get(p["store_id"], ""),
             "cosine": p["cosine"]}
            for p in result.pairs
        ]  # fmt: skip
        write_csv(rows, out / "leakage.csv", fieldnames=CSV_COLUMNS)
        shown = result.pairs[:48]
        o_pics = load_items(other, [p["other_id"] for p in shown], images=True)
        s_pics = load_items(store, [p["store_id"] for p in shown], images=True)
        cells = [
            [{"id": p["other_id"], "items": o_pics,
              "caption": f"{other.path.name} #{p['other_id']} {o_lab.get(p['other_id']) or ''}"},
             {"id": p["store_id"], "items": s_pics,
              "caption": f"{store.path.name} #{p['store_id']} {p['cosine']:.3f}"}]
            for p in shown
        ]  # fmt: skip
        rows3 = [sum(cells[i : i + 3], []) for i in range(0, len(cells), 3)]  # 3 pairs a row
        title = (
            f"{result.num_leaked} of {result.num_other} {other.path.name} items have a "
            f"near-duplicate in {store.path.name} (cosine >= {result.threshold})"
        )
        contact_sheet(rows3, o_pics, out / "leakage.png", title)
        result.notes += o_items.notes
        result.files = {n: str(out / n) for n in ("leakage.csv", "leakage.png", "leakage.json")}
        write_json_atomic(out / "leakage.json", result.to_dict())
