"""Exact and near-duplicate groups in one store, above a cosine threshold.

Every item's ``k`` nearest neighbours come from the store's index (or exact search);
pairs at cosine >= ``threshold`` form groups around a representative (each member is a
duplicate of the group's first item, see :func:`_groups`), so a chain of
near-copies across a smooth region does not merge into one giant group. A group is ``exact`` when all
its pairs are at cosine >= 0.9999 (identical vectors up to rounding), else ``near``.
Written for a person to check: ``duplicates.csv`` (one row per member) and
``duplicates.png`` (a contact sheet, one row per group, tightest first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reprlearn.errors import ReprlearnError
from reprlearn.outdir import prepare_out_dir, write_json_atomic, writer_lock
from reprlearn.search.contact_sheet import contact_sheet
from reprlearn.search.items import load_items
from reprlearn.search.metric import store_metric
from reprlearn.search.neighbors import knn
from reprlearn.search.shards import iter_shards
from reprlearn.store import EmbeddingStore

EXACT_COSINE = 0.9999
CSV_COLUMNS = ("group", "kind", "size", "id", "label", "item", "max_cosine")


@dataclass
class DuplicateGroups:
    """What :func:`find_duplicates` found.

    Attributes:
        groups: one dict per group, tightest first (highest ``min_cosine``, its weakest
            pair): ``group``, ``kind`` (exact/near), ``ids`` (store ids), ``min_cosine``,
            ``max_cosine`` (per member: its best cosine inside the group).
        threshold: the cosine threshold; num_items: items searched; method: index or exact.
        files: name -> path written; notes: things to know.
    """

    groups: list[dict[str, Any]]
    threshold: float
    num_items: int
    method: str
    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def num_duplicates(self) -> int:
        """Items that could be dropped: all members of each group but one."""
        return sum(len(g["ids"]) - 1 for g in self.groups)

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "num_items": self.num_items,
            "num_groups": len(self.groups),
            "num_duplicates": self.num_duplicates,
            "method": self.method,
            "groups": self.groups,
            "files": self.files,
            "notes": self.notes,
        }


def check_cosine(store: EmbeddingStore, threshold: float) -> None:
    """Raise :class:`ReprlearnError` unless ``store`` is searched by cosine and
    ``threshold`` is in (0, 1]."""
    if store_metric(store) != "cosine":
        raise ReprlearnError(
            f"duplicates use cosine similarity but {store.path} is indexed by "
            f"{store_metric(store)}; rebuild the index with `--metric cosine`"
        )
    if not 0 < threshold <= 1:
        raise ReprlearnError(f"--threshold {threshold} must be a cosine in (0, 1], e.g. 0.95")


def similar_pairs(
    store: EmbeddingStore, threshold: float, k: int
) -> tuple[np.ndarray, np.ndarray, str]:
    """Pairs of store ids ``(p, 2)`` with cosine >= ``threshold`` among each item's ``k``
    nearest, and their cosines ``(p,)``; each unordered pair once."""
    pairs, cosines, method = [], [], "exact"
    for shard in iter_shards(store):
        scores, ids, method = knn(store, shard.X, k, exclude_ids=shard.ids)
        rows, cols = np.nonzero((scores >= threshold) & (ids >= 0))
        a, b = shard.ids[rows], ids[rows, cols]
        pairs.append(np.stack([np.minimum(a, b), np.maximum(a, b)], 1))
        cosines.append(scores[rows, cols])
    P, C = np.concatenate(pairs), np.concatenate(cosines)
    if len(P):
        P, first = np.unique(P, axis=0, return_index=True)
        C = C[first]
    return P.reshape(-1, 2), C, method


def _groups(pairs: np.ndarray, cosines: np.ndarray) -> list[list[int]]:
    """Representative groups, most similar pairs first: a pair of unassigned items opens a
    group (its first item is the representative); an item joins a group only when it is a
    duplicate of the group's representative. Unlike connected components, near-duplicate
    chains (a~b, b~c, ... across a smooth region of the space) do not merge into one
    giant group."""
    cos = {(int(a), int(b)): float(c) for (a, b), c in zip(pairs, cosines, strict=True)}
    rep_of: dict[int, int] = {}
    groups: dict[int, list[int]] = {}
    for i in np.argsort(-cosines, kind="stable"):
        a, b = int(pairs[i, 0]), int(pairs[i, 1])
        if a not in rep_of and b not in rep_of:
            rep_of[a] = rep_of[b] = a
            groups[a] = [a, b]
            continue
        for member, other in ((a, b), (b, a)):
            if member in rep_of and other not in rep_of:
                rep = rep_of[member]
                if (min(rep, other), max(rep, other)) in cos:
                    rep_of[other] = rep
                    groups[rep].append(other)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))


def find_duplicates(
    store: EmbeddingStore | str | Path,
    out: str | Path | None = None,
    *,
    threshold: float = 0.95,
    k: int = 10,
    overwrite: bool = False,
) -> DuplicateGroups:
    """Groups of exact and near-duplicate items of ``store`` (cosine >= ``threshold``).

    Args:
        store: an :class:`EmbeddingStore` or its folder (its index is used when present).
        out: folder for ``duplicates.csv``, ``duplicates.png``, ``duplicates.json``
            (nothing written when None).
        threshold: cosine at or above which two items are duplicates (default 0.95).
        k: neighbours looked at per item (default 10): a group can grow beyond k+1
            through chains.
        overwrite: replace an existing duplicates folder at ``out``.

    Raises:
        ReprlearnError: a threshold outside (0, 1] or a store searched by another metric.
        OutputError: ``out`` holds files reprlearn did not write.
    """
    store = store if isinstance(store, EmbeddingStore) else EmbeddingStore.open(store)
    check_cosine(store, threshold)
    k = min(k, len(store) - 1)
    pairs, cosines, method = similar_pairs(store, threshold, k)
    group_of = {m: n for n, g in enumerate(_groups(pairs, cosines), start=1) for m in g}
    best: dict[int, float] = {}
    lowest: dict[int, float] = {}
    for (a, b), c in zip(pairs.tolist(), cosines.tolist(), strict=True):
        if a in group_of and group_of.get(b) == group_of[a]:  # a pair inside one group
            best[a], best[b] = max(best.get(a, -1.0), c), max(best.get(b, -1.0), c)
            g = group_of[a]
            lowest[g] = min(lowest.get(g, 2.0), c)
    members_of: dict[int, list[int]] = {}
    for m, g in group_of.items():
        members_of.setdefault(g, []).append(m)
    # tightest groups first (highest weakest-link cosine): the surest duplicates to check
    order = sorted(members_of, key=lambda g: (-lowest[g], -len(members_of[g])))
    groups = [
        {"group": n, "kind": "exact" if lowest[g] >= EXACT_COSINE else "near",
         "ids": sorted(members_of[g]), "min_cosine": round(lowest[g], 4),
         "max_cosine": [round(best[m], 4) for m in sorted(members_of[g])]}
        for n, g in enumerate(order, start=1)
    ]  # fmt: skip
    result = DuplicateGroups(groups, threshold, len(store), method)
    if out is not None:
        _write(store, result, Path(out), overwrite)
    return result


def _write(store: EmbeddingStore, result: DuplicateGroups, out: Path, overwrite: bool) -> None:
    from reprlearn.search.query import _labels
    from reprlearn.tables import write_csv

    prepare_out_dir(out, kind="duplicates", overwrite=overwrite)
    with writer_lock(out):
        ids = [i for g in result.groups for i in g["ids"]]
        shown = [i for g in result.groups[:16] for i in g["ids"][:6]]
        items = load_items(store, ids, images=False)
        pictures = load_items(store, shown, images=True) if items.modality == "image" else items
        labels = _labels(store, ids)
        rows = [
            {"group": g["group"], "kind": g["kind"], "size": len(g["ids"]), "id": i,
             "label": labels.get(i), "item": items.text.get(i, ""), "max_cosine": c}
            for g in result.groups for i, c in zip(g["ids"], g["max_cosine"], strict=True)
        ]  # fmt: skip
        write_csv(rows, out / "duplicates.csv", fieldnames=CSV_COLUMNS)
        sheet = [
            [{"id": i, "caption": f"#{i} {labels.get(i) or ''} {c:.3f}"}
             for i, c in zip(g["ids"], g["max_cosine"], strict=True)]
            for g in result.groups
        ]  # fmt: skip
        title = (
            f"{store.path.name}: {len(result.groups)} groups at cosine >= {result.threshold} "
            f"({result.num_duplicates} removable of {result.num_items})"
        )
        contact_sheet(sheet, pictures, out / "duplicates.png", title)
        result.notes += items.notes
        result.files = {
            n: str(out / n) for n in ("duplicates.csv", "duplicates.png", "duplicates.json")
        }
        write_json_atomic(out / "duplicates.json", result.to_dict())
