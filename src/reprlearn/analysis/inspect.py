"""``inspect``: a practitioner's first look at an embedding store.

Draws the cosine-similarity matrix of a label-stratified sample (classes and items drawn
at random from ``seed``, or the classes a user chooses), lists each sampled item's
nearest neighbours (and those of query texts a user brings), measures how often
neighbours share a label, maps the space to 2-D and runs the label-free geometry
diagnostics with a verdict in plain words. Files written to ``out``:

* ``similarity.png``: the sample's cosine similarities;
* ``neighbors.csv``: item_id, label, item, rank, neighbor_id, neighbor_label,
  neighbor_item, cosine (``item`` = the text, or the image's path in the source);
* ``map.png``: the 2-D projection coloured by label (a legend up to 20 classes; above,
  the names of a few centroids only, so no text overlaps);
* ``map.csv``: id, label, x, y of every projected item;
* ``queries.csv`` (with ``queries``): query, rank, neighbor_id, neighbor_label,
  neighbor_item, cosine;
* ``geometry.json``: :class:`~reprlearn.analysis.geometry.Geometry` as JSON;
* ``inspect.json``: the whole :class:`InspectResult`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from reprlearn.analysis.geometry import (
    HUBNESS_K,
    HUBNESS_MAX_ITEMS,
    Geometry,
    diagnose,
    sparse_nearest_neighbors,
)
from reprlearn.analysis.neighbor_sheet import neighbor_sheet
from reprlearn.analysis.neighbors import Neighbors, nearest_neighbors, search
from reprlearn.analysis.plots import projection_scatter, shorten, similarity_heatmap
from reprlearn.analysis.projection import (
    MAX_POINTS,
    METHODS,
    Projection,
    check_available,
    project_2d,
)
from reprlearn.analysis.similarity import cosine_similarity_matrix, stratified_sample
from reprlearn.errors import DataError, ReprlearnError
from reprlearn.evaluation.sparsity import sparse_view
from reprlearn.store import EmbeddingStore
from reprlearn.tables import write_csv

# 2,000 queries x k neighbours: the agreement's standard error is below 1.2 points.
AGREEMENT_MAX_QUERIES = 2_000
TABLE_NEIGHBORS = 5
QUERY_COLUMNS = ("query", "rank", "neighbor_id", "neighbor_label", "neighbor_item", "cosine")
CSV_COLUMNS = (
    "item_id",
    "label",
    "item",
    "rank",
    "neighbor_id",
    "neighbor_label",
    "neighbor_item",
    "cosine",
)


@dataclass
class InspectResult:
    """What :func:`inspect` found; ``to_dict()`` is what ``inspect.json`` holds.

    Attributes:
        store, encoder_name, num_items, dim: the store looked at.
        modality: ``"text"``, ``"image"`` or None when the source could not be reloaded.
        sample_ids: source row ids of the sampled items, grouped by label.
        neighbors: one dict per (sampled item, rank) with the :data:`CSV_COLUMNS`.
        k: neighbours per item.
        agreement: share of neighbours (over ``agreement_queries`` items) with the item's
            label, or None without labels; ``agreement_chance`` is the share expected by
            chance (sum of squared class shares).
        geometry: the label-free diagnostics and verdict.
        projection: method, number of points, explained variance (PCA).
        files: name -> path of the files written.
        notes: things the user should know (e.g. the source could not be reloaded).
        classes: the class names of the sample (None without labels).
        query_neighbors: one dict per (query text, rank) with :data:`QUERY_COLUMNS`.
    """

    store: str
    encoder_name: str
    num_items: int
    dim: int
    modality: str | None
    sample_ids: list[int]
    neighbors: list[dict[str, Any]]
    k: int
    agreement: float | None
    agreement_chance: float | None
    agreement_queries: int
    geometry: Geometry
    projection: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    classes: list[str] | None = None
    query_neighbors: list[dict[str, Any]] = field(default_factory=list)
    loaded: dict[str, Any] = field(default_factory=dict)  # StoreSample.record()

    @property
    def verdict(self) -> str:
        return self.geometry.verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "encoder_name": self.encoder_name,
            "num_items": self.num_items,
            "dim": self.dim,
            "modality": self.modality,
            "verdict": self.verdict,
            "warnings": self.geometry.warnings,
            "k": self.k,
            "neighbor_label_agreement": self.agreement,
            "agreement_chance": self.agreement_chance,
            "agreement_queries": self.agreement_queries,
            "geometry": self.geometry.to_dict(),
            "projection": self.projection,
            "classes": self.classes,
            "sample_ids": self.sample_ids,
            "neighbors": self.neighbors,
            "query_neighbors": self.query_neighbors,
            "files": self.files,
            "notes": self.notes,
            "loaded": self.loaded,
        }

    def table(self) -> Table:
        """A rich table: each sampled item and its nearest neighbours (up to 5), cosine
        in each cell, green when the neighbour has the item's label, red otherwise."""
        shown = min(self.k, TABLE_NEIGHBORS)
        title = f"Nearest neighbours by cosine · {self.encoder_name}"
        if self.agreement is not None:
            title += (
                f" · same label {self.agreement:.1%} at k={self.k} "
                f"(chance {self.agreement_chance:.1%})"
            )
        table = Table(title=title, show_lines=self.modality == "text")
        table.add_column("item", overflow="fold", max_width=40)
        for rank in range(1, shown + 1):
            table.add_column(f"#{rank}", overflow="fold", max_width=28)
        by_item: dict[int, list[dict[str, Any]]] = {}
        for row in self.neighbors:
            by_item.setdefault(row["item_id"], []).append(row)
        for item_id in self.sample_ids:
            rows = by_item[item_id][:shown]
            table.add_row(
                _cell(item_id, rows[0]["label"], rows[0]["item"], None),
                *(_neighbor_cell(r) for r in rows),
            )
        by_query: dict[str, list[dict[str, Any]]] = {}
        for row in self.query_neighbors:
            by_query.setdefault(row["query"], []).append(row)
        for query, rows in by_query.items():
            table.add_row(
                f"[bold]query[/]\n{_escape(shorten(query, 60))}",
                *(_cell(r["neighbor_id"], r["neighbor_label"], r["neighbor_item"], r["cosine"])
                  for r in rows[:shown]),
            )  # fmt: skip
        return table


def inspect(
    store: EmbeddingStore | str | Path,
    out: str | Path,
    *,
    sample: int = 20,
    classes: Sequence[str] | None = None,
    queries: Sequence[str] | None = None,
    projection: str = "pca",
    k: int = 5,
    seed: int = 0,
    max_rows: int | None = None,
) -> InspectResult:
    """Look inside an embedding store; write the figures, CSV and JSON to ``out``.

    Args:
        store: an :class:`EmbeddingStore` or its folder.
        out: output folder (created).
        sample: items in the similarity matrix and the neighbour list (default 20),
            spread evenly over classes drawn at random from ``seed`` (at most
            ``sample // 2`` classes, so each shows two items or more;
            :func:`stratified_sample`).
        classes: class names to sample from instead (CLI ``--classes a,b,c``).
        queries: texts whose nearest items to list too, embedded with the store's own
            encoder (rebuilt from the manifest and the store's fitted state; for an
            ``open_clip`` image store, its text tower: text-to-image search; CLI
            ``--queries FILE_OR_TEXT``).
        projection: ``"pca"`` (default), ``"tsne"`` or ``"umap"`` (needs umap-learn).
        k: neighbours per item (default 5) for the list and the label agreement, which
            is measured over all items, or a seeded sample of 2,000 for larger stores.
        seed: seed of every sample.
        max_rows: rows loaded at most; a larger store is inspected on a seeded uniform
            sample of this many rows (default :func:`reprlearn.store.default_max_rows`:
            1 GiB of float32 vectors, at most 1e6), recorded in ``loaded`` and the notes.

    Returns:
        :class:`InspectResult`.

    Raises:
        StoreError: not a (complete) store.
        DataError: bad option (``sample`` < 2, ``k`` not below the number of items,
            unknown projection, a class name the store does not have, queries for an
            image store or one whose encoder cannot be rebuilt).
        MissingDependencyError: ``projection="umap"`` without umap-learn.
    """
    store = store if isinstance(store, EmbeddingStore) else EmbeddingStore.open(store)
    loaded = store.load_bounded(max_rows, seed)
    X, y, ids = loaded.X, loaded.y, loaded.ids
    _check_options(store, len(X), sample, k, projection)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = store.label_names
    label_of = _labeller(y, names)
    chosen = _class_ids(store, y, classes)
    query_vectors = _embed_queries(store, queries) if queries else None
    picked = stratified_sample(y, sample, seed, n_items=len(X), classes=chosen)
    space = _Space.of(X)
    graph = _graph(space, k)
    nb = graph.subset(picked, k) if graph is not None else _nearest(space, k, picked)
    qnb = search(X, query_vectors, k) if query_vectors is not None else None
    wanted = [picked, nb.indices.ravel()] + ([qnb.indices.ravel()] if qnb else [])
    items, modality, notes = _load_items(store, ids, np.unique(np.concatenate(wanted)))
    rows = _neighbor_rows(nb, ids, label_of, items)
    query_rows = _query_rows(qnb, list(queries or []), ids, label_of, items) if qnb else []
    agreement, chance, n_queries = _agreement(space, y, k, seed, graph)
    geo = diagnose(X, seed=seed, neighbors=graph, sparse=space.sparse)
    proj = _project(space, projection, seed)
    files = _write_files(out, store, X, y, ids, picked, rows, geo, proj, items, modality)
    files.update(_write_tables(out, store, y, ids, proj, query_rows))
    title = f"Nearest neighbours (label · cosine) · {store.encoder_name}"
    sheet = neighbor_sheet(nb, ids, label_of, items, modality, out / "neighbors.png", title)
    if sheet is not None:
        files["neighbors.png"] = str(sheet)
    result = InspectResult(
        store=str(store.path),
        encoder_name=store.encoder_name,
        num_items=len(X),
        dim=X.shape[1],
        modality=modality,
        sample_ids=ids[picked].tolist(),
        neighbors=rows,
        k=k,
        agreement=agreement,
        agreement_chance=chance,
        agreement_queries=n_queries,
        geometry=geo,
        projection=proj.to_dict(),
        files=files,
        notes=notes,
        classes=None if y is None else sorted(set(_names(y, names, picked)), key=str),
        query_neighbors=query_rows,
        loaded=loaded.record(),
    )
    if loaded.note():
        result.notes.append(loaded.note())
    result.files["inspect.json"] = str(out / "inspect.json")
    (out / "inspect.json").write_text(json.dumps(result.to_dict(), indent=1))
    return result


def _check_options(store: EmbeddingStore, n: int, sample: int, k: int, projection: str) -> None:
    if projection not in METHODS:
        raise DataError(f"unknown --projection {projection!r}; choose one of {', '.join(METHODS)}")
    check_available(projection)  # fail before the slow work, not after
    if sample < 2:
        raise DataError(f"--sample must be at least 2, got {sample}")
    if n < 3:
        raise DataError(f"{store.path} holds {n} items; inspect needs at least 3")
    if not 1 <= k < n:
        raise DataError(
            f"--k must be between 1 and {n - 1} for the {n} items of {store.path}, got {k}"
        )


def _class_ids(store: EmbeddingStore, y: np.ndarray | None, classes) -> list[int] | None:
    """Label ids of the class names in ``classes`` (None: let the sample choose)."""
    if not classes:
        return None
    if y is None:
        raise DataError(f"{store.path} has no labels, so --classes cannot choose any")
    names = store.label_names or [str(c) for c in range(int(y.max()) + 1)]
    index = {str(name): i for i, name in enumerate(names)}
    unknown = [c for c in classes if str(c) not in index]
    if unknown:
        shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
        raise DataError(
            f"--classes: {', '.join(map(str, unknown))} not among the classes of "
            f"{store.path}: {shown}"
        )
    return [index[str(c)] for c in classes]


def read_queries(values: Sequence[str]) -> list[str]:
    """Query texts from CLI values: each an existing text file (one query per non-empty
    line) or a query text itself.

    Raises:
        DataError: no query text at all (empty files or values).
    """
    texts: list[str] = []
    for value in values:
        path = Path(value)
        if len(value) < 4096 and path.is_file():
            texts += [line.strip() for line in path.read_text().splitlines() if line.strip()]
        elif value.strip():
            texts.append(value.strip())
    if not texts:
        raise DataError("--queries: no query text (give texts, or a file with one per line)")
    return texts


def _embed_queries(store: EmbeddingStore, queries: Sequence[str]) -> np.ndarray:
    """``(q, dim)`` vectors of ``queries`` from the store's own encoder (and normalisation)."""
    from reprlearn.embed import encode_items
    from reprlearn.encoders.fitted_store import load_fitted

    described = store.manifest.get("encoder") or {}
    options: dict[str, Any] = {}
    if described.get("modality", "text") != "text":
        if not store.encoder_name.startswith("open_clip:"):
            raise DataError(
                f"--queries are texts, but {store.path} holds {described.get('modality')} "
                f"embeddings of {store.encoder_name}; inspect a text store (or an open_clip "
                "image store: its text tower shares the image space)"
            )
        options["modality"] = "text"  # CLIP: texts and images live in one space
    try:
        encoder = load_fitted(store.path, **options)
    except (ReprlearnError, OSError, ImportError, ValueError) as e:
        raise DataError(
            f"--queries: cannot rebuild the encoder {store.encoder_name!r} of {store.path} "
            f"to embed them ({e}); drop --queries, or re-embed the source with an encoder "
            "available here"
        ) from None
    return encode_items(
        encoder,
        list(queries),
        precision=str(store.manifest.get("precision") or "auto"),
        normalize=bool(store.manifest.get("normalized")),
    )


def _labeller(y: np.ndarray | None, names: list[str] | None):
    """row -> label name ('' without labels)."""
    if y is None:
        return lambda row: ""
    return lambda row: names[int(y[row])] if names else str(int(y[row]))


def _load_items(store: EmbeddingStore, ids: np.ndarray, rows: np.ndarray):
    """``({row: text or (image, path)}, modality, notes)`` for the given store rows,
    reloaded from the store's source (:func:`reprlearn.search.items.load_items`)."""
    from reprlearn.search.items import load_items

    found = load_items(store, ids[rows], images=True)
    if found.modality is None:
        return {}, None, found.notes
    items: dict[int, Any] = {}
    for row in rows.tolist():
        i = int(ids[row])
        items[row] = found.text[i] if found.modality == "text" else (found.image[i], found.text[i])
    return items, found.modality, found.notes


def _item_text(items: dict, row: int) -> str:
    item = items.get(row)
    if item is None:
        return ""
    return item if isinstance(item, str) else item[1]


def _neighbor_rows(nb, ids, label_of, items) -> list[dict[str, Any]]:
    rows = []
    for q, neighbours, cosines in zip(nb.queries, nb.indices, nb.cosines, strict=True):
        for rank, (j, cos) in enumerate(zip(neighbours, cosines, strict=True), start=1):
            rows.append(
                {
                    "item_id": int(ids[q]),
                    "label": label_of(q),
                    "item": _item_text(items, int(q)),
                    "rank": rank,
                    "neighbor_id": int(ids[j]),
                    "neighbor_label": label_of(j),
                    "neighbor_item": _item_text(items, int(j)),
                    "cosine": round(float(cos), 6),
                }
            )
    return rows


def _query_rows(nb, queries: list[str], ids, label_of, items) -> list[dict[str, Any]]:
    rows = []
    for q, neighbours, cosines in zip(nb.queries, nb.indices, nb.cosines, strict=True):
        for rank, (j, cos) in enumerate(zip(neighbours, cosines, strict=True), start=1):
            rows.append(
                {
                    "query": queries[int(q)],
                    "rank": rank,
                    "neighbor_id": int(ids[j]),
                    "neighbor_label": label_of(j),
                    "neighbor_item": _item_text(items, int(j)),
                    "cosine": round(float(cos), 6),
                }
            )
    return rows


def _write_tables(out: Path, store, y, ids, proj: Projection, query_rows) -> dict[str, str]:
    """``map.csv`` (id, label, x, y of every projected item) and ``queries.csv``."""
    names = store.label_names
    rows = [
        {
            "id": int(ids[i]),
            "label": "" if y is None else (names[int(y[i])] if names else int(y[i])),
            "x": round(float(px), 6),
            "y": round(float(py), 6),
        }
        for i, (px, py) in zip(proj.indices, proj.points, strict=True)
    ]
    write_csv(rows, out / "map.csv", fieldnames=("id", "label", "x", "y"))
    files = {"map.csv": str(out / "map.csv")}
    if query_rows:
        write_csv(query_rows, out / "queries.csv", fieldnames=QUERY_COLUMNS)
        files["queries.csv"] = str(out / "queries.csv")
    return files


@dataclass(frozen=True)
class _Space:
    """The loaded embeddings ``X`` ``(n, dim)``, whether every value is finite, and their
    CSR view when they are finite and mostly zeros (TF-IDF; else None): checked and built
    once for the neighbour searches and the map instead of once per use."""

    X: np.ndarray
    finite: bool
    sparse: Any

    @classmethod
    def of(cls, X: np.ndarray) -> _Space:
        finite = bool(np.isfinite(X).all())
        return cls(X, finite, sparse_view(X) if finite else None)


def _graph(space: _Space, k: int) -> Neighbors | None:
    """The cosine neighbour graph of every item (``max(k, HUBNESS_K)`` each) when the
    store is small enough for hubness to use every item (at most ``HUBNESS_MAX_ITEMS``)
    and every row is finite: one search serves the neighbour list, the label agreement
    and hubness. Else None (each searches for itself, as before)."""
    n = len(space.X)
    if n > HUBNESS_MAX_ITEMS or n <= max(k, HUBNESS_K) or not space.finite:
        return None
    return _nearest(space, max(k, HUBNESS_K), None)


def _agreement(
    space: _Space, y: np.ndarray | None, k: int, seed: int, graph: Neighbors | None = None
):
    """(share of neighbours with the same label, chance share, queries) or Nones."""
    if y is None:
        return None, None, 0
    queries, n = None, len(space.X)
    if n > AGREEMENT_MAX_QUERIES:
        rng = np.random.default_rng(seed)
        queries = np.sort(rng.choice(n, AGREEMENT_MAX_QUERIES, replace=False))
    nb = graph.subset(queries, k) if graph is not None else _nearest(space, k, queries)
    shares = np.bincount(y) / len(y)
    return nb.label_agreement(y), float((shares**2).sum()), len(nb.queries)


def _write_files(out, store, X, y, ids, picked, rows, geo, proj, items, modality):
    files: dict[str, Any] = {}
    labels = [
        r or f"#{ids[i]}" for r, i in zip(_names(y, store.label_names, picked), picked, strict=True)
    ]
    kwargs: dict[str, Any] = {}
    if modality == "text":
        kwargs["texts"] = [items[int(i)] for i in picked]
    elif modality == "image":
        kwargs["thumbnails"] = [items[int(i)][0] for i in picked]
    files["similarity.png"] = str(
        similarity_heatmap(
            cosine_similarity_matrix(X[picked]),
            labels,
            out / "similarity.png",
            title=f"Cosine similarity of {len(picked)} items · {store.encoder_name}",
            **kwargs,
        )
    )
    write_csv(rows, out / "neighbors.csv", fieldnames=CSV_COLUMNS)  # labels made formula-safe
    files["neighbors.csv"] = str(out / "neighbors.csv")
    files["map.png"] = str(
        projection_scatter(
            proj.points,
            None if y is None else y[proj.indices],
            store.label_names,
            out / "map.png",
            title=_map_title(store, proj, len(X)),
            axis_labels=_axis_labels(proj),
        )
    )
    (out / "geometry.json").write_text(json.dumps(geo.to_dict(), indent=1))
    files["geometry.json"] = str(out / "geometry.json")
    return files


def _names(y, label_names, picked) -> list[str]:
    if y is None:
        return [""] * len(picked)
    return [label_names[int(y[i])] if label_names else str(int(y[i])) for i in picked]


def _nearest(space: _Space, k: int, queries: np.ndarray | None):
    """Exact cosine neighbours of ``queries`` (rows; None = all): sparse products for
    finite mostly-zero rows such as TF-IDF (:func:`sparse_nearest_neighbors`), else
    :func:`nearest_neighbors`."""
    if space.sparse is not None:
        return sparse_nearest_neighbors(space.sparse, k, queries)
    return nearest_neighbors(space.X, k, queries=queries)


def _project(space: _Space, method: str, seed: int) -> Projection:
    X, S = space.X, space.sparse
    if method == "pca" and S is not None:
        # mostly-zero rows (TF-IDF): the same PCA by ARPACK on the CSR rows, centred
        # implicitly (scikit-learn), instead of a randomized SVD of the dense matrix
        from sklearn.decomposition import PCA

        idx = np.arange(len(X))
        if len(X) > MAX_POINTS["pca"]:  # the seeded subsample of project_2d
            rng = np.random.default_rng(seed)
            idx = np.sort(rng.choice(len(X), size=MAX_POINTS["pca"], replace=False))
        pca = PCA(n_components=2, svd_solver="arpack", random_state=seed).fit(S[idx])
        points = np.ascontiguousarray(pca.transform(S[idx]), dtype=np.float32)
        return Projection(points, idx, "pca", pca.explained_variance_ratio_)
    finite = np.flatnonzero(np.isfinite(X).all(axis=1))
    proj = project_2d(X[finite], method, seed=seed)
    proj.indices = finite[proj.indices]
    return proj


def _map_title(store: EmbeddingStore, proj: Projection, n: int) -> str:
    shown = f"{len(proj.points):,} of {n:,}" if len(proj.points) < n else f"{n:,}"
    return f"{proj.method.upper()} map of {shown} items · {store.encoder_name}"


def _axis_labels(proj: Projection) -> tuple[str, str]:
    if proj.explained_variance is not None:
        ev = proj.explained_variance
        return f"PC 1 ({ev[0]:.1%} of variance)", f"PC 2 ({ev[1]:.1%} of variance)"
    name = {"tsne": "t-SNE", "umap": "UMAP"}[proj.method]
    return f"{name} 1", f"{name} 2"


def _cell(item_id: int, label: str, text: str, cosine: float | None) -> str:
    """``label cos #id`` (cosine as ``.97``), then the text shortened, on a second line."""
    parts = [f"[bold]{_escape(label)}[/]"] if label else []
    if cosine is not None:
        parts.append(f"{cosine:.2f}".replace("0.", ".", 1))
    parts.append(f"[dim]#{item_id}[/]")
    return " ".join(parts) + (f"\n{_escape(shorten(text, 60))}" if text else "")


def _neighbor_cell(row: dict[str, Any]) -> str:
    cell = _cell(row["neighbor_id"], row["neighbor_label"], row["neighbor_item"], row["cosine"])
    if not row["label"]:
        return cell
    return f"[green]{cell}[/]" if row["neighbor_label"] == row["label"] else f"[red]{cell}[/]"


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
