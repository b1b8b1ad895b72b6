"""``reprlearn embed``: a dataset -> an embedding store."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console


@app.command()
def embed(
    source: o.Source,
    encoder: Annotated[
        str, typer.Option("--encoder", "-e", help="encoder name, e.g. pca:32, minilm")
    ],
    out: Annotated[str, typer.Option("--out", "-o", help="store folder")],
    format: o.Format = "auto",
    text_column: o.TextColumn = None,
    label_column: o.LabelColumn = None,
    encoding: o.Encoding = None,
    split: o.Split = None,
    data_dir: o.DataDir = None,
    fine_labels: o.FineLabels = False,
    modality: Annotated[str | None, typer.Option(help="text|image for two-tower encoders")] = None,
    batch_size: o.BatchSize = None,
    device: o.Device = "auto",
    precision: o.Precision = "auto",
    normalize: Annotated[bool, typer.Option(help="L2-normalise the vectors")] = False,
    num_workers: Annotated[int | None, typer.Option(help="image decoding workers")] = None,
    shard_size: Annotated[int, typer.Option(help="rows per shard (unit of resume)")] = 8192,
    on_error: o.OnError = "raise",
    overwrite: Annotated[bool, typer.Option(help="delete an existing store at --out")] = False,
    json_: o.Json = False,
) -> None:
    """Embed SOURCE with ENCODER into a resumable Parquet embedding store at OUT.

    Rerunning the same command after an interruption resumes from the last complete shard.
    """
    from reprlearn.data import load_dataset
    from reprlearn.embed import embed as run_embed
    from reprlearn.encoders import load_encoder

    o.quiet_datasets()
    ds = load_dataset(
        source,
        **o.data_options(
            format=format,
            text_column=text_column,
            label_column=label_column,
            encoding=encoding,
            split=split,
            data_dir=data_dir,
            fine_labels=fine_labels,
        ),
    )
    enc = load_encoder(encoder, **({"modality": modality} if modality else {}))
    store = run_embed(
        ds,
        enc,
        out,
        batch_size=batch_size,
        device=device,
        precision=precision,
        normalize=normalize,
        num_workers=num_workers,
        shard_size=shard_size,
        on_error=on_error,
        overwrite=overwrite,
        progress=not json_,
    )
    summary = store.summary()
    if json_:
        console.print_json(json.dumps(summary))
        return
    table = Table(title="embedding store", show_header=False)
    for key, value in summary.items():
        table.add_row(key, str(value))
    console.print(table)
