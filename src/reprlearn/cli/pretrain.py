"""``reprlearn pretrain``: self-supervised pretraining of a backbone on your images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console, fail
from reprlearn.errors import ReprlearnError


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """``["temperature=0.2", "predictor=false"]`` -> ``{"temperature": 0.2, "predictor": False}``.

    Values are read as JSON when they parse (numbers, true/false, lists), else as strings.
    """
    options: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise fail(f"--set expects KEY=VALUE, got {item!r}")
        try:
            options[key.strip().replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip().replace("-", "_")] = value
    return options


def interrupted_hint(out: str | Path) -> str:
    """What to tell a user whose ``pretrain`` was interrupted (Ctrl-C) writing ``out``."""
    if (Path(out) / "last.ckpt").is_file():
        return "interrupted; rerun the same command with --resume to continue"
    return "interrupted before the first epoch ended; rerun the same command to start again"


def _method_help() -> str:
    from reprlearn.training.methods import METHODS, _import_all

    _import_all()
    return "|".join(sorted(METHODS))


@app.command()
def pretrain(
    source: o.Source,
    method: Annotated[str, typer.Option(help=f"pretraining method ({_method_help()})")] = "simclr",
    backbone: Annotated[str, typer.Option(help="small_cnn | resnet18_cifar | mlp")] = "small_cnn",
    out: Annotated[str, typer.Option("--out", "-o", help="run folder")] = "runs/run",
    epochs: Annotated[int, typer.Option(help="training epochs")] = 10,
    batch_size: Annotated[int, typer.Option(help="items per step and device")] = 256,
    lr: Annotated[float | None, typer.Option(help="peak learning rate (default scaled)")] = None,
    optimizer: Annotated[str, typer.Option(help="adamw | sgd | lars")] = "adamw",
    devices: Annotated[
        str, typer.Option(help="devices per node (DDP when > 1; with --accelerator cpu, processes)")
    ] = "1",
    num_nodes: Annotated[int, typer.Option(help="nodes (DDP)")] = 1,
    accelerator: Annotated[str, typer.Option(help="auto | cpu | gpu")] = "auto",
    precision: o.Precision = "auto",
    resume: Annotated[bool, typer.Option(help="continue the run in --out")] = False,
    overwrite: Annotated[
        bool, typer.Option(help="replace the run in --out (only a run folder reprlearn wrote)")
    ] = False,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    max_items: Annotated[int | None, typer.Option(help="train on a random subset")] = None,
    recipe: Annotated[str | None, typer.Option(help="simclr|byol|vicreg|digits|none")] = None,
    image_size: Annotated[int | None, typer.Option(help="resize images to N px")] = None,
    latent_dim: Annotated[int | None, typer.Option(help="ae/vae: code size")] = None,
    beta: Annotated[float | None, typer.Option(help="vae: weight of the KL term")] = None,
    loss: Annotated[str | None, typer.Option(help="ae/vae: mse | bce")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="method option KEY=VALUE (repeatable)")
    ] = None,
    split: o.Split = None,
    data_dir: o.DataDir = None,
    json_: o.Json = False,
) -> None:
    """Pretrain a backbone on SOURCE's images; the run folder loads as encoder ckpt:OUT.

    Writes OUT/log.jsonl (one line per epoch), curves.png and last.ckpt (for --resume)
    at every epoch end; config.json + backbone.safetensors + method.safetensors and
    results.json once every epoch ran. Ctrl-C or a kill keeps the last finished epoch:
    rerun with --resume to continue.
    """
    from reprlearn.outdir import write_json_atomic
    from reprlearn.training.distributed import launched_rank
    from reprlearn.training.pretrain import pretrain as run

    o.quiet_datasets()
    options = parse_sets(set_)
    for key, value in (("latent_dim", latent_dim), ("beta", beta), ("loss", loss)):
        if value is not None:
            options[key] = value
    try:
        result = run(
            source, method=method, backbone=backbone, out=out, epochs=epochs,
            batch_size=batch_size, lr=lr, devices=int(devices) if devices.isdigit() else devices,
            num_nodes=num_nodes, precision=precision, seed=seed, resume=resume,
            method_options=options, recipe=recipe, max_items=max_items, optimizer=optimizer,
            accelerator=accelerator, image_size=image_size, overwrite=overwrite,
            source_options=o.data_options(split=split, data_dir=data_dir), progress=not json_,
            options_label="--set",
        )  # fmt: skip
    except KeyboardInterrupt:
        result = None  # reported below, outside this handler (one line, no traceback)
    except (ReprlearnError, ValueError, TypeError) as e:  # bad option, folder, data
        raise fail(str(e)) from None
    if result is None:
        raise fail(interrupted_hint(out), 130)
    if launched_rank() > 0:  # a DDP worker that Lightning's launcher started: rank 0 reports
        return
    summary = {"out": str(result.out), "encoder": result.encoder, "seconds": result.seconds,
               "final": result.final, "config": result.config}  # fmt: skip
    write_json_atomic(result.out / "results.json", summary)
    if json_:
        console.print_json(json.dumps(summary))
        return
    table = Table(title=escape(f"pretrain {method} on {source}"))
    for col in ("epoch", "loss", "knn_top1", "effective_rank", "items/s"):
        table.add_column(col, justify="right")
    for r in result.history:
        knn = r.get("knn_top1")
        table.add_row(str(r["epoch"]), f"{r['loss']:.4f}", "-" if knn is None else f"{knn:.3f}",
                      f"{r['effective_rank']:.1f}", f"{r['items_per_s']:.0f}")  # fmt: skip
    console.print(table)
    console.print(f"encoder: [bold]{escape(str(result.encoder))}[/]  ({result.seconds:.1f} s)")
