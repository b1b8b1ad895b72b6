"""``reprlearn augment-text SOURCE --method eda|backtranslate --out FILE``: new training
sentences (EDA, back-translation) as a CSV/Parquet table."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console


@app.command("augment-text")
def augment_text_command(
    source: Annotated[str, typer.Argument(help="a text source: SentEval folder, CSV/TSV/JSONL/Parquet table, .txt lines")],
    out: Annotated[str, typer.Option("--out", "-o", help="the table to write: .csv or .parquet")],
    method: Annotated[str, typer.Option(help="eda | backtranslate")] = "eda",
    n: Annotated[int, typer.Option("--n", help="new sentences per original")] = 4,
    alpha: Annotated[float, typer.Option(help="EDA: share of words changed, in (0, 1]")] = 0.1,
    ops: Annotated[str, typer.Option(help="EDA operations: any of sr,ri,rs,rd (synonym replacement, random insertion, swap, deletion)")] = "sr,ri,rs,rd",
    via: Annotated[str | None, typer.Option(help="backtranslate: SRC2PIVOT,PIVOT2SRC models (hub ids or folders; default Helsinki-NLP/opus-mt-en-de,Helsinki-NLP/opus-mt-de-en)")] = None,
    only_new: Annotated[bool, typer.Option("--only-new", help="leave the originals out")] = False,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    format: o.Format = "auto",
    text_column: o.TextColumn = None,
    label_column: o.LabelColumn = None,
    encoding: o.Encoding = None,
    split: o.Split = None,
    batch_size: Annotated[int, typer.Option(help="backtranslate: texts per generate call")] = 32,
    device: o.Device = "auto",
    precision: o.Precision = "auto",
    overwrite: Annotated[bool, typer.Option(help="replace an existing --out file")] = False,
    json_: o.Json = False,
) -> None:  # fmt: skip
    """New training sentences by EDA (Wei & Zou 2019: synonym replacement, random
    insertion, swap, deletion with WordNet, offline) or back-translation through two
    translation models. Writes id, source_id, text, label, method (originals unless
    --only-new); every new row keeps its original's label."""
    from reprlearn.augment.text import augment_text

    o.quiet_datasets()
    data = o.data_options(format=format, text_column=text_column, label_column=label_column,
                          encoding=encoding, split=split)  # fmt: skip
    result = augment_text(source, method=method, n=n, alpha=alpha, operations=ops.split(","),
                          via=via, only_new=only_new, seed=seed, out=out, overwrite=overwrite,
                          source_options=data, batch_size=batch_size, device=device,
                          precision=precision)  # fmt: skip
    if json_:
        print(json.dumps(result.summary(), default=str))
        return
    console.print(f"augment-text {escape(result.options['method'])} on {escape(source)}")
    table = Table()
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in result.counts.items():
        if isinstance(value, dict):
            for k, v in value.items():
                table.add_row(f"new by {escape(k)}", str(v))
        elif isinstance(value, int) and key != "texts":
            table.add_row(escape(key.replace("_", " ")), str(value))
        elif isinstance(value, (str, list)):  # back-translation: via, precision, device
            shown = ",".join(value) if isinstance(value, list) else value
            table.add_row(escape(key), escape(shown), end_section=False)
    table.add_row("rows written", str(len(result.table)))
    console.print(table)
    console.print(f"wrote [bold]{escape(str(result.out))}[/]")
