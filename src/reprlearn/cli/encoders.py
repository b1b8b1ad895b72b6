"""``reprlearn encoders``: the encoder families, aliases and what is usable offline."""

from __future__ import annotations

import json

from rich.markup import escape
from rich.table import Table

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console


@app.command()
def encoders(json_: o.Json = False) -> None:
    """List encoder families, aliases, and whether each is installed and usable offline."""
    from reprlearn.encoders.registry import ALIASES, families, resolve_name

    rows = [
        {
            "family": f.name,
            "example": f.example,
            "description": f.description,
            "installed": f.installed,
            "offline": f.installed and not f.needs_download,
        }
        for f in families()
    ]
    aliases = {}
    for short in sorted(ALIASES):
        try:
            aliases[short] = resolve_name(short)
        except Exception as e:  # an alias whose target can't be resolved here
            aliases[short] = f"unavailable: {e}"
    if json_:
        console.print_json(json.dumps({"families": rows, "aliases": aliases}))
        return
    table = Table(
        title="encoder families",
        caption="needs download: pretrained weights come from the network, a cache or a "
        "local folder, or loading fails saying how to get them; --random-weights (embed, "
        "compare) builds such an encoder with random weights instead",
    )
    for column in ("family", "example", "description", "installed", "offline"):
        table.add_column(column, overflow="fold")  # narrow terminals wrap, never cut
    for r in rows:
        table.add_row(
            escape(r["family"]),
            escape(r["example"]),
            escape(r["description"]),
            "yes" if r["installed"] else "[red]no[/]",
            "yes" if r["offline"] else "needs download",
        )
    console.print(table)
    if aliases:
        alias_table = Table(title="aliases")
        alias_table.add_column("alias", overflow="fold")
        alias_table.add_column("resolves to", overflow="fold")
        for short, full in aliases.items():
            alias_table.add_row(escape(short), escape(full))
        console.print(alias_table)
