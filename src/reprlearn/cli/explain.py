"""``reprlearn explain``: class activation maps of an image classifier or encoder (a PNG grid,
scores with --json), or token attributions of a text classifier (HTML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console

Method = Annotated[
    str,
    typer.Option(help="gradcam, gradcam++, scorecam, eigencam (no target), layercam, hirescam"),
]


@app.command()
def explain(
    model: o.ImageModel,
    source: o.Source,
    method: Method = "gradcam",
    n: Annotated[int, typer.Option(help="items explained (a seeded random sample)")] = 16,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            help="the picture: PNG grid of overlays (default cams.png); text "
            "classifiers: HTML (default tokens.html)",
        ),
    ] = None,  # fmt: skip
    layer: Annotated[
        str | None,
        typer.Option(
            help="hook this layer (dotted name); default the last conv stage / last ViT block"
        ),
    ] = None,  # fmt: skip
    target: Annotated[
        str, typer.Option(help="classifiers: pred (predicted class) or true (the label)")
    ] = "pred",  # fmt: skip
    reference: Annotated[
        str | None,
        typer.Option(
            help="encoders: explain the cosine similarity to this image (default: to the "
            "item's class prototype)"
        ),
    ] = None,  # fmt: skip
    inside_mask: Annotated[
        bool,
        typer.Option(
            "--inside-mask",
            help="shapes: share of map energy inside each object's mask "
            "(energy-based pointing game)",
        ),
    ] = False,  # fmt: skip
    faithfulness: Annotated[
        bool, typer.Option("--faithfulness", help="ROAD (ROADCombined) and the deletion curve")
    ] = False,  # fmt: skip
    sanity: Annotated[
        bool,
        typer.Option(
            "--sanity",
            help="model-randomisation check (Adebayo et al. 2018): Spearman of the "
            "maps against a randomised model's",
        ),
    ] = False,  # fmt: skip
    seed: Annotated[int, typer.Option(help="seed of the item sample")] = 0,
    random_weights: o.RandomWeights = False,
    device: o.Device = "auto",
    format: o.Format = "auto",
    text_column: o.TextColumn = None,
    label_column: o.LabelColumn = None,
    encoding: o.Encoding = None,
    split: o.Split = None,
    data_dir: o.DataDir = None,
    json_: o.Json = False,
) -> None:
    """Show what MODEL looks at on items of SOURCE: class activation maps overlaid on the
    images (title: true / predicted label, red when wrong). For a text classifier (a finetune
    run on texts): the words that drove each prediction, highlighted in an HTML file."""
    from reprlearn.explain.model import run_modality

    o.quiet_datasets()
    data = o.data_options(format=format, text_column=text_column, label_column=label_column,
                          encoding=encoding, split=split, data_dir=data_dir)  # fmt: skip
    if run_modality(model) == "text":
        from reprlearn.explain.text_attribution import explain_text

        found = explain_text(model, source, n=n, out=Path(out or "tokens.html"), target=target,
                             source_options=data, seed=seed)  # fmt: skip
        if json_:
            console.print_json(json.dumps(found, default=str))
        else:
            console.print(
                f"wrote token attributions to [bold]{escape(str(out or 'tokens.html'))}[/]"
            )
        return
    from reprlearn.explain.api import explain as run_explain

    result = run_explain(model, source, method=method, n=n, layer=layer, target=target,
                         reference=reference, source_options=data, inside_mask=inside_mask,
                         faithfulness=faithfulness, sanity=sanity, out=out or "cams.png",
                         seed=seed, random_weights=random_weights, device=device)  # fmt: skip
    if json_:
        console.print_json(json.dumps(result.to_dict(), default=str))
        return
    console.print(result.table())
    if result.deletion:
        curve = ", ".join(f"{p}%: {v:+.3f}" for p, v in result.deletion.items())
        console.print(f"deletion curve (score change after removing the top p%): {curve}",
                      markup=False)  # fmt: skip
    console.print(f"wrote [bold]{escape(str(result.out))}[/]")
