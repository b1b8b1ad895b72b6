"""``reprlearn sts PAIRS --encoder NAME``: STS correlation (MTEB's protocol) of an encoder."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from reprlearn.cli.app import app, console, fail
from reprlearn.errors import ReprlearnError


@app.command("sts")
def sts_command(
    pairs: Path = typer.Argument(
        ..., help="CSV, TSV or JSONL file with two sentence columns and a gold score."
    ),
    encoder: str = typer.Option(..., "--encoder", "-e", help="Encoder name, e.g. minilm, tfidf."),
    sentence1_column: str = typer.Option("sentence1", help="Column of the first sentences."),
    sentence2_column: str = typer.Option("sentence2", help="Column of the second sentences."),
    score_column: str = typer.Option("score", help="Column of the gold similarity scores."),
    batch_size: int | None = typer.Option(
        None, help="Embedding batch size (default: per encoder)."
    ),
    device: str = typer.Option("auto", help="auto | cpu | cuda | mps"),
    precision: str = typer.Option("auto", help="auto | fp32 | bf16 | fp16"),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Spearman and Pearson (x100) of cosine similarity against gold scores."""
    from reprlearn.evaluation.sts import sts

    try:
        result = sts(
            pairs,
            encoder,
            sentence1_column,
            sentence2_column,
            score_column,
            batch_size=batch_size,
            device=device,
            precision=precision,
        )
    except ReprlearnError as e:
        raise fail(str(e)) from None
    except (ValueError, ImportError) as e:  # unknown encoder / missing library
        raise fail(str(e)) from None
    if as_json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        console.print(result.table())
