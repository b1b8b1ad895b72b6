"""``reprlearn predict``: a finetune run folder classifies a source -> predictions.csv."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console


@app.command()
def predict(
    run: Annotated[str, typer.Argument(help="run folder of `reprlearn finetune`")],
    source: o.Source,
    out: Annotated[str, typer.Option("--out", "-o", help="CSV to write")] = "predictions.csv",
    format: o.Format = "auto",
    text_column: o.TextColumn = None,
    label_column: o.LabelColumn = None,
    encoding: o.Encoding = None,
    split: o.Split = None,
    data_dir: o.DataDir = None,
    fine_labels: o.FineLabels = False,
    batch_size: Annotated[int, typer.Option(help="items per batch (streamed)")] = 256,
    on_error: o.OnError = "raise",
    device: o.Device = "auto",
    precision: o.Precision = "auto",
    json_: o.Json = False,
) -> None:
    """Classify every item of SOURCE with the classifier in RUN; write OUT with columns id,
    prediction, confidence, prob_<label> per class (reads straight into pandas). With labels
    (--label-column, or a labelled source) it also prints the accuracy."""
    from reprlearn.adapt.predict import predict as run_predict

    o.quiet_datasets()
    data = o.data_options(format=format, text_column=text_column, label_column=label_column,
                          encoding=encoding, split=split, data_dir=data_dir, fine_labels=fine_labels)  # fmt: skip
    result = run_predict(run, source, out, source_options=data, batch_size=batch_size,
                         on_error=on_error, device=device, precision=precision,
                         progress=not json_)  # fmt: skip
    if json_:
        console.print_json(json.dumps(result.to_dict(), default=str))
        return
    console.print(f"wrote {result.n_predicted} predictions to [bold]{escape(str(result.out))}[/]")
    if result.skipped:
        console.print(
            f"skipped {len(result.skipped)} bad items (first: {result.skipped[0]})", markup=False
        )
    if result.accuracy is not None:
        console.print(f"accuracy against the given labels: {result.accuracy}")
