"""``reprlearn probe STORE``: evaluate an embedding store with published protocols."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from reprlearn.cli.app import app, console, fail
from reprlearn.errors import ReprlearnError

PROTOCOL_HELP = (
    "linear | knn | kmeans | senteval | mteb | logme | all (all = all but senteval); "
    "several comma-separated, e.g. linear,knn"
)


@app.command("probe")
def probe_command(
    store: Path = typer.Argument(..., help="Embedding store folder (from `reprlearn embed`)."),
    protocol: str = typer.Option("linear", "--protocol", "-p", help=PROTOCOL_HELP),
    test: Path | None = typer.Option(
        None,
        "--test",
        help="Second store in the same space (embedded with --fitted-from STORE for fitted "
        "encoders) to score on; default a 80/20 split. k-means and LogME then describe it.",
    ),
    samples_per_label: int = typer.Option(8, help="MTEB: training items per label."),
    experiments: int = typer.Option(10, help="MTEB: undersampled experiments."),
    k: int = typer.Option(20, "--k", help="kNN neighbours (DINO: 20)."),
    C: float = typer.Option(1.0, "--C", help="Linear probe inverse L2 strength (sklearn's C)."),
    folds: int = typer.Option(10, help="SentEval cross-validation folds."),
    seed: int = typer.Option(0, help="Seed of splits, bootstrap and k-means."),
    device: str = typer.Option("auto", help="Torch device for the linear and kNN probes."),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for probe.json (+ confusion.png for the linear probe)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    factors: bool = typer.Option(
        False, "--factors", help="Probe known generative factors (stores of `shapes`)."
    ),
    max_rows: int | None = typer.Option(
        None,
        "--max-rows",
        help="Rows loaded per store at most; a bigger store is probed on a "
        "seeded sample (default: 1 GiB of vectors, at most 1,000,000 rows).",
    ),
) -> None:
    """Evaluate embeddings: linear probe, kNN, k-means, SentEval, MTEB, LogME."""
    try:
        payload, tables, result = _run(
            store,
            protocol,
            test,
            samples_per_label,
            experiments,
            k,
            C,
            folds,
            seed,
            device,
            factors,
            max_rows,
        )
    except ReprlearnError as e:
        raise fail(str(e)) from None
    if out is not None:
        _write(out, payload, result)
    if as_json:
        print(json.dumps(payload, indent=1))
        return
    for table in tables:
        console.print(table)
    if out is not None:
        console.print(f"wrote {escape(str(out / 'probe.json'))}")


def _run(
    store, protocol, test, samples_per_label, experiments, k, C, folds, seed, device, factors,
    max_rows=None,
):  # fmt: skip
    if factors:
        from reprlearn.evaluation.factors import probe_factors

        result = probe_factors(store, seed=seed)
        return result.to_dict(), [result.table()], None
    from reprlearn.evaluation.probe import probe

    result = probe(
        store,
        protocol,
        test,
        samples_per_label=samples_per_label,
        experiments=experiments,
        seed=seed,
        C=C,
        k=k,
        folds=folds,
        device=device,
        max_rows=max_rows,
    )
    return result.to_dict(), [result.table()], result


def _write(out: Path, payload: dict, result) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "probe.json").write_text(json.dumps(payload, indent=1))
    linear = result.results.get("linear") if result is not None else None
    if linear is not None and linear.confusion is not None:
        from reprlearn.analysis.confusion import confusion_report

        # confusion.png (colour bar), confusion.csv, confused_pairs.csv, per_class_accuracy.csv
        confusion_report(linear.confusion, result.label_names, out)
