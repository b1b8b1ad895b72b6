"""``reprlearn compare``: the main job — rank encoders on one dataset in one report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console, fail


def _budgets(text: str) -> list[int | str]:
    values: list[int | str] = []
    for part in text.split(","):
        part = part.strip()
        if part == "all":
            values.append("all")
        elif part.isdigit() and int(part) > 0:
            values.append(int(part))
        else:
            raise typer.BadParameter(
                f"{part!r}: use positive integers and 'all', e.g. 1,2,5,10,all"
            )
    return values


@app.command()
def compare(
    source: Annotated[str, typer.Argument(help="a labelled source (default: digits)")] = "digits",
    encoders: Annotated[str | None, typer.Option(help="comma-separated encoder names")] = None,
    out: Annotated[str | None, typer.Option("--out", "-o", help="report folder")] = None,
    test: Annotated[
        str | None,
        typer.Option(
            help="held-out labelled source (e.g. the test file): fit each encoder on SOURCE "
            "and score every protocol on TEST; default a stratified 80/20 split of SOURCE"
        ),
    ] = None,
    protocols: Annotated[
        str,
        typer.Option(
            help="comma-separated: linear,knn,kmeans,mteb,logme,label-efficiency (or all)"
        ),
    ] = "all",
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="replace OUT when it holds an earlier report (only a folder reprlearn wrote)",
        ),
    ] = False,
    label_efficiency: Annotated[
        str, typer.Option(help="labels per class, e.g. 1,2,5,10,all")
    ] = "1,2,5,10,all",
    repeats: Annotated[int, typer.Option(help="draws per label budget")] = 5,
    sample: Annotated[int, typer.Option(help="items in each similarity matrix")] = 20,
    projection: Annotated[str, typer.Option(help="2-D map: pca, tsne or umap")] = "pca",
    format: o.Format = "auto",
    text_column: o.TextColumn = None,
    label_column: o.LabelColumn = None,
    encoding: o.Encoding = None,
    split: o.Split = None,
    data_dir: o.DataDir = None,
    fine_labels: o.FineLabels = False,
    device: o.Device = "auto",
    precision: o.Precision = "auto",
    seed: Annotated[int, typer.Option(help="seed of splits and samples")] = 0,
    random_weights: o.RandomWeights = False,
    json_: o.Json = False,
) -> None:
    """Embed SOURCE with each encoder, inspect and probe each space, rank them, and write
    report.html, results.json, results.csv and plots to OUT (default reports/<source>)."""
    from reprlearn.report.compare import compare as run_compare
    from reprlearn.report.compare import slug

    o.quiet_datasets()
    out = out or str(Path("reports") / slug(Path(source).name or source))
    budgets = _budgets(label_efficiency)
    try:
        result = run_compare(
            source,
            encoders,  # None = defaults; "" and typos are refused before any work
            out,
            test=test,
            protocols=protocols,
            overwrite=overwrite,
            budgets=budgets,
            repeats=repeats,
            sample=sample,
            projection=projection,
            device=device,
            precision=precision,
            seed=seed,
            progress=not json_,
            random_weights=random_weights,
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
    except (ValueError, ImportError) as e:  # DataError, unknown encoder, missing library
        raise fail(str(e)) from None
    if json_:
        console.print_json(json.dumps(result.to_dict(), default=str))
        return
    console.print(result.table())
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    console.print(f"\n[bold]Conclusion.[/] {escape(result.conclusion)}\n")
    console.print(
        f"report: [link=file://{Path(out).resolve()}/report.html]{escape(out)}/report.html[/] "
        f"({result.seconds:.0f} s)"
    )
