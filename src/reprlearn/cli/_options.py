"""Options shared by several commands (typer ``Annotated`` aliases) and their use."""

from __future__ import annotations

from typing import Annotated, Any

import typer

Source = Annotated[
    str,
    typer.Argument(
        help="digits, shapes, cifar10, hf:NAME, a file or a folder (images: label = the "
        "first-level subfolder; no subfolders = unlabelled)"
    ),
]
Format = Annotated[
    str,
    typer.Option(
        help="force the source format: auto (from the name, else the content), lines, csv, "
        "tsv, jsonl, parquet, trec, sst2, senteval, imagefolder"
    ),
]
TextColumn = Annotated[
    str | None, typer.Option(help="text column of a CSV/TSV/JSONL/Parquet table")
]
LabelColumn = Annotated[str | None, typer.Option(help="label column of a table (default: label)")]
Encoding = Annotated[
    str | None, typer.Option(help="text encoding (default: the BOM's, else utf-8; TREC latin-1)")
]
Split = Annotated[str | None, typer.Option(help="split of sources that have them (train/test)")]
DataDir = Annotated[str | None, typer.Option(help="folder holding named datasets (cifar10/)")]
FineLabels = Annotated[bool, typer.Option(help="TREC: the 50 fine labels")]
Device = Annotated[str, typer.Option(help="auto (cuda > mps > cpu), cpu, cuda, cuda:1, mps")]
Precision = Annotated[str, typer.Option(help="auto (bf16 where fast), fp32, bf16, fp16")]
OnError = Annotated[
    str, typer.Option(help="bad items: raise (stop, naming the row) or skip (count)")
]
BatchSize = Annotated[int | None, typer.Option(help="items per forward pass")]
Json = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
ImageModel = Annotated[
    str,
    typer.Argument(
        help="a `reprlearn finetune` run folder or an image encoder (ckpt:RUN, timm:NAME, "
        "torchvision:ARCH)"
    ),
]
"""MODEL of ``explain``, ``filters`` and ``feature-maps``."""
RandomWeights = Annotated[
    bool,
    typer.Option(
        "--random-weights",
        help="pretrained families (timm, torchvision, hf, st, open_clip): random "
        "weights instead of the pretrained ones (recorded in the manifest)",
    ),
]


def data_options(**kwargs: Any) -> dict[str, Any]:
    """Keyword arguments for :func:`reprlearn.load_dataset` from CLI option values
    (unset options and ``format="auto"`` are left to the loader's defaults)."""
    return {k: v for k, v in kwargs.items() if v not in (None, False, "auto")}


def quiet_datasets() -> None:
    """Silence ``datasets``' own progress bars (we show ours)."""
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
