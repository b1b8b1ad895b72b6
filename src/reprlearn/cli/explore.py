"""``reprlearn explore STORE [STORE...]``: the embedding space in the browser."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape

from reprlearn.cli.app import app, console


@app.command("explore")
def explore_command(
    stores: list[Path] = typer.Argument(..., help="One store, or several stores of one source."),
    export: Path | None = typer.Option(
        None, "--export", help="Write a static site here instead of serving."
    ),
    engine: str = typer.Option(
        "page",
        "--engine",
        help="page (WebGL, works everywhere) or atlas (embedding-atlas, needs WebGPU).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to serve on."),
    port: int = typer.Option(5055, "--port", help="Port to serve on (0: any free port)."),
    k: int = typer.Option(10, "--k", help="Nearest neighbours per item."),
    projection: str = typer.Option(
        "pca", "--projection", help="2-D map: pca (all items), tsne or umap (subsampled)."
    ),
    max_items: int | None = typer.Option(
        None, "--max-items", help="Keep a seeded sample of N items."
    ),
    open_browser: bool = typer.Option(True, "--open/--no-open", help="Open the browser."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an existing --export folder."
    ),
) -> None:
    """Explore STORE in the browser: the 2-D map coloured by label, kNN prediction,
    cluster or (several stores) neighbour agreement between encoders; search items and
    see their nearest neighbours. --export DIR writes a standalone site (open
    DIR/index.html, or serve it with `python -m http.server`)."""
    from reprlearn.explore.launch import explore, serve

    site = explore(stores, export=export, engine=engine, k=k, projection=projection,
                   max_items=max_items, overwrite=overwrite)  # fmt: skip
    for note in site.notes:
        console.print(f"[dim]note: {escape(note)}[/]", highlight=False)
    console.print(
        f"explorer table: {site.rows:,} items, {', '.join(site.names)}; built in {site.seconds:.1f} s",
        highlight=False,
    )
    if export is not None:
        root = export / "atlas" if engine == "atlas" else export
        console.print(
            f"wrote the site to {root}: open {root}/index.html, or `python -m http.server -d {root}`",
            highlight=False,
            markup=False,
        )
        return
    if engine == "atlas":
        from reprlearn.explore.atlas import run_atlas
        from reprlearn.explore.table import build_table

        table = build_table(stores, k=k, projection=projection, max_items=max_items)
        raise typer.Exit(
            run_atlas(site.site / "table.parquet", table, host=host, port=port, export=None)
        )
    server = serve(site.site, host, port)
    url = f"http://{host}:{server.server_address[1]}/"
    console.print(f"serving the explorer at {url} (Ctrl-C to stop)", highlight=False, markup=False)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
