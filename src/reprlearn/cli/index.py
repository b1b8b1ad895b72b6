"""``reprlearn index STORE``: a FAISS index beside the store (``STORE/index/``)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from reprlearn.cli.app import app, console


@app.command("index")
def index_command(
    store: Path = typer.Argument(..., help="An embedding store folder (from `reprlearn embed`)."),
    kind: str = typer.Option("auto", "--kind", help="auto (autofaiss rule), flat, hnsw, ivf-pq."),
    max_memory: str | None = typer.Option(
        None, "--max-memory", help="Memory the index may use, e.g. 4G (default: half the RAM)."
    ),
    metric: str | None = typer.Option(
        None, "--metric", help="cosine, ip or l2 (default: the manifest's, else cosine)."
    ),
    target_recall: float = typer.Option(
        0.95, "--target-recall", help="recall@10 the search parameter is tuned to reach."
    ),
    part_rows: int | None = typer.Option(
        None,
        "--part-rows",
        help="Shard an IVF-PQ index: parts of this many vectors, "
        "trained once, filled part by part (bounded memory), searched merged.",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Rebuild an up-to-date index."),
    as_json: bool = typer.Option(False, "--json", help="Print the index facts as JSON."),
) -> None:
    """Build a nearest-neighbour index of STORE shard by shard; print its kind, build time,
    bytes per vector and recall@10 against exact search on 1,000 held-out queries. An
    up-to-date index is reused; one built before the store changed is rebuilt."""
    from reprlearn.search.index import build_index

    info = build_index(
        store, kind=kind, max_memory=max_memory, metric=metric,
        target_recall=target_recall, overwrite=overwrite, part_rows=part_rows,
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(info.to_dict(), indent=1))
        return
    recall = "n/a (too few items)" if info.recall_at_10 is None else f"{info.recall_at_10:.3f}"
    params = ", ".join(f"{k}={v}" for k, v in info.search_params.items()) or "exact"
    if info.parts:
        params += f", {len(info.parts)} parts"
    console.print(
        f"index {info.kind} ({info.factory}, {info.metric}, {params}) of {info.num_vectors:,} "
        f"vectors: built in {info.build_seconds:.1f} s, {info.bytes_per_vector:.0f} bytes/vector, "
        f"recall@10 {recall} vs exact on {info.recall_queries} held-out queries "
        f"[{info.chosen_by}] -> {Path(store) / 'index'}",
        highlight=False,
        markup=False,
    )
