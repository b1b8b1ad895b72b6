"""``explore``: the embedding space in the browser (served on 127.0.0.1, or exported).

Builds the table (:mod:`reprlearn.explore.table`), writes reprlearn's WebGL page
(:mod:`reprlearn.explore.page`) or hands the table to embedding-atlas
(:mod:`reprlearn.explore.atlas`), then serves it with Python's ``http.server`` on
127.0.0.1 (by default) and opens the browser, or leaves a static site in ``export``.
"""

from __future__ import annotations

import functools
import http.server
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from reprlearn.errors import ReprlearnError
from reprlearn.outdir import prepare_out_dir, writer_lock
from reprlearn.store import EmbeddingStore

ENGINES = ("page", "atlas")


@dataclass
class ExploreSite:
    """What :func:`explore` prepared: the ``site`` folder, the table's ``rows``, the
    store ``names``, ``seconds`` spent building, ``notes``."""

    site: Path
    rows: int
    names: list[str]
    seconds: float
    notes: list[str] = field(default_factory=list)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass


def serve(
    site: str | Path, host: str = "127.0.0.1", port: int = 0
) -> http.server.ThreadingHTTPServer:
    """An HTTP server for the folder ``site`` on ``host:port`` (0 = a free port), serving
    in a daemon thread; ``server.server_address`` gives the port, ``shutdown()`` stops it."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def explore(
    stores: list[str | Path | EmbeddingStore] | str | Path,
    *,
    export: str | Path | None = None,
    engine: str = "page",
    k: int = 10,
    projection: str = "pca",
    max_items: int | None = None,
    overwrite: bool = False,
) -> ExploreSite:
    """Prepare the explorer for one store, or several stores of the same source.

    Args:
        stores: store folders (the first gives the map, neighbours, clusters and kNN
            predictions; each adds its coordinates, neighbours, and the neighbour
            agreement column).
        export: folder for the standalone site (a reprlearn ``site`` folder); default a
            temporary folder to serve from.
        engine: ``page`` (reprlearn's WebGL page) or ``atlas`` (embedding-atlas's
            application; needs WebGPU in the browser).
        k, projection, max_items: see :func:`reprlearn.explore.table.build_table`.
        overwrite: replace an existing site at ``export``.

    Returns:
        :class:`ExploreSite`; serve ``site`` with :func:`serve`.

    Raises:
        ReprlearnError: unknown engine; StoreError: stores of different sources;
        MissingAtlasError: ``engine="atlas"`` without embedding-atlas installed.
    """
    from reprlearn.explore.page import write_site
    from reprlearn.explore.table import build_table

    if engine not in ENGINES:
        raise ReprlearnError(f"unknown --engine {engine!r}: choose one of {', '.join(ENGINES)}")
    start = time.perf_counter()
    paths = [stores] if isinstance(stores, (str, Path, EmbeddingStore)) else list(stores)
    table = build_table(paths, k=k, projection=projection, max_items=max_items)
    site = (
        Path(export) if export is not None else Path(tempfile.mkdtemp(prefix="reprlearn-explore-"))
    )
    if export is not None:
        prepare_out_dir(site, kind="site", overwrite=overwrite)
    with writer_lock(site):
        title = "explore · " + " vs ".join(table.names)
        if engine == "page":
            write_site(table, site, title)
        else:
            from reprlearn.explore.atlas import run_atlas

            table.to_parquet(site / "table.parquet")
            if export is not None:
                code = run_atlas(
                    site / "table.parquet", table, host="127.0.0.1", port=0, export=site / "atlas"
                )
                if code != 0:
                    raise ReprlearnError(f"embedding-atlas failed to export (exit code {code})")
    return ExploreSite(
        site, len(table.frame), table.names, time.perf_counter() - start, table.notes
    )
