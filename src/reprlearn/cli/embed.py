"""``reprlearn embed``: a dataset -> an embedding store."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console


@app.command()
def embed(
    source: o.Source,
    out: Annotated[str, typer.Option("--out", "-o", help="store folder")],
    encoder: Annotated[
        str | None,
        typer.Option("--encoder", "-e", help="encoder name, e.g. pca:32, minilm, store:TRAIN"),
    ] = None,
    fitted_from: Annotated[
        str | None,
        typer.Option(
            "--fitted-from",
            help="reuse this store's fitted encoder (same as -e store:STORE), so e.g. a test "
            "split lands in the training store's space",
        ),
    ] = None,
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
    precision: Annotated[
        str,
        typer.Option(
            help="auto (bf16 where fast), fp32, bf16, fp16, or int8 (st: models on the "
            "onnx/openvino backend, kept only when it measures close to fp32 on your texts)"
        ),
    ] = "auto",
    normalize: Annotated[bool, typer.Option(help="L2-normalise the vectors")] = False,
    num_workers: Annotated[int | None, typer.Option(help="image decoding workers")] = None,
    shard_size: Annotated[int, typer.Option(help="rows per shard (unit of resume)")] = 8192,
    on_error: o.OnError = "raise",
    overwrite: Annotated[
        bool, typer.Option(help="replace an existing store at --out (only a reprlearn store)")
    ] = False,
    random_weights: o.RandomWeights = False,
    backend: Annotated[
        str,
        typer.Option(
            help="auto (the fastest installed backend by a measured ranking, recorded in the manifest), torch, onnx "
            "or openvino (st: models, sentence-transformers' backends; each needs its own "
            'environment: pip install "reprlearn[onnx]" or "reprlearn[openvino]")'
        ),
    ] = "auto",
    engine: Annotated[
        str, typer.Option(help="local (this process) or ray (a Ray Data actor pool)")
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster to join (auto, HOST:6379); default: start a local one"),
    ] = None,
    actors: Annotated[
        int | None, typer.Option(help="Ray encoder actors (default: one per CPU or GPU)")
    ] = None,
    gpus_per_actor: Annotated[
        float, typer.Option(help="GPUs each Ray actor reserves (0: CPU actors)")
    ] = 0.0,
    json_: o.Json = False,
) -> None:
    """Embed SOURCE with ENCODER into a resumable Parquet embedding store at OUT.

    Rerunning the same command after an interruption resumes from the last complete shard,
    and repairs a damaged store (re-embeds only missing or altered shards). For a held-out
    split, embed it with the training store's fitted encoder: --fitted-from TRAIN.
    """
    from reprlearn.data import load_dataset
    from reprlearn.embed import check_settings
    from reprlearn.embed import embed as run_embed
    from reprlearn.encoders import load_encoder

    check_settings(batch_size, shard_size, num_workers, on_error)  # before loading anything
    ray = _ray_options(engine, address, actors, gpus_per_actor)
    encoder = _encoder_name(encoder, fitted_from)
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
    enc = load_encoder(
        encoder,
        random_weights=random_weights,
        **({"modality": modality} if modality else {}),
    )
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
        backend=backend,
        engine=engine,
        ray=ray,
    )
    summary = store.summary()
    if choice := (store.manifest.get("encoder") or {}).get("backend_choice"):
        summary["backend"] = choice  # what --backend auto picked, and why
    if check := ((store.manifest.get("encoder") or {}).get("backend_run") or {}).get("int8_check"):
        summary["int8_check"] = (
            f"mean cosine to fp32 {check['mean_cosine']}, pair-similarity Spearman "
            f"{check['pair_spearman']} on {check['n_texts']} texts (passed)"
        )
    if json_:
        console.print_json(json.dumps(summary))
        return
    table = Table(title="embedding store", show_header=False)
    for key, value in summary.items():
        table.add_row(key, escape(str(value)))
    console.print(table)


def _ray_options(engine: str, address: str | None, actors: int | None, gpus: float):
    """``--engine`` and the Ray flags, checked before any data is loaded."""
    from reprlearn.distributed.ray_engine import ENGINES, RayOptions
    from reprlearn.errors import DataError

    if engine not in ENGINES:
        raise DataError(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "local":
        given = [f for f, v in (("--address", address), ("--actors", actors)) if v is not None]
        if gpus:
            given.append("--gpus-per-actor")
        if given:
            raise DataError(f"{', '.join(given)} apply to --engine ray; add --engine ray")
        return None
    options = RayOptions(address=address, actors=actors, gpus_per_actor=gpus)
    options.check()
    return options


def _encoder_name(encoder: str | None, fitted_from: str | None) -> str:
    """The registry name to load from ``--encoder`` and ``--fitted-from``."""
    from reprlearn.errors import DataError

    if fitted_from is None:
        if encoder is None:
            raise DataError(
                "embed needs --encoder (e.g. -e pca:32, -e minilm) or --fitted-from STORE"
            )
        return encoder
    if encoder is not None and not encoder.startswith("store:"):
        from reprlearn.store import read_manifest

        fitted = read_manifest(fitted_from)["encoder_name"]
        if fitted != encoder:
            raise DataError(
                f"--encoder {encoder} does not match --fitted-from {fitted_from}, which was "
                f"embedded with {fitted!r}; drop --encoder (it is taken from the store)"
            )
    return f"store:{fitted_from}"
