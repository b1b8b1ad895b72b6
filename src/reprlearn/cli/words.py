"""``reprlearn words ...``: train word vectors, distil static embeddings, evaluate them,
neighbours, analogies, a 2-D word map, and a word's senses in context."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reprlearn.cli import _options as o
from reprlearn.cli.app import app, console

words_app = typer.Typer(
    help="Word vectors (word2vec, fastText, GloVe, model2vec): train, distill, eval, neighbors, analogy, map, context.",
    no_args_is_help=True,
)
app.add_typer(words_app, name="words")

Vectors = Annotated[
    str,
    typer.Argument(
        help="a words-train folder, a word2vec/GloVe/fastText file (w2v:/glove:/fasttext: prefix picks the format), a model2vec folder or static:minilm"
    ),
]
Out = Annotated[str, typer.Option("--out", "-o", help="output folder")]
Overwrite = Annotated[
    bool, typer.Option(help="replace an existing folder reprlearn wrote at --out")
]


def _print(obj, json_: bool) -> bool:
    if json_:
        console.print_json(json.dumps(obj, default=str))
    return json_


def _kv_table(title: str, rows: dict) -> None:
    table = Table(title=title, show_header=False)
    for k, v in rows.items():
        table.add_row(str(k), f"{v:.4f}" if isinstance(v, float) else str(v))
    console.print(table)


@words_app.command()
def train(
    source: o.Source,
    out: Out,
    method: Annotated[
        str, typer.Option(help="word2vec, fasttext, or bag (supervised lookup table + classifier)")
    ] = "word2vec",
    sg: Annotated[bool, typer.Option("--sg/--cbow", help="skip-gram or CBOW")] = False,
    dim: Annotated[int, typer.Option(help="vector size")] = 100,
    window: Annotated[int, typer.Option(help="context window (words each side)")] = 5,
    min_count: Annotated[int, typer.Option(help="ignore words seen fewer times")] = 5,
    epochs: Annotated[int, typer.Option(help="passes over the corpus")] = 5,
    format: o.Format = "auto",
    text_column: o.TextColumn = None,
    label_column: o.LabelColumn = None,
    encoding: o.Encoding = None,
    overwrite: Overwrite = False,
    json_: o.Json = False,
) -> None:
    """Train word2vec or fastText (gensim) on SOURCE (a text file/folder, or a folder of
    them such as ../shared/data/senteval) and save the vectors to OUT. --method bag trains
    an nn.EmbeddingBag + linear classifier on a labelled SOURCE (use it as bag:OUT)."""
    from reprlearn.words.train import train_word_vectors

    o.quiet_datasets()
    if method == "bag":
        _train_bag(
            source,
            out,
            dim,
            epochs,
            min_count,
            overwrite,
            json_,
            o.data_options(
                format=format, text_column=text_column, label_column=label_column, encoding=encoding
            ),
        )
        return
    manifest = train_word_vectors(
        source, out, method=method, sg=sg, dim=dim, window=window, min_count=min_count,
        epochs=epochs, overwrite=overwrite, progress=not json_,
        **o.data_options(format=format, text_column=text_column, encoding=encoding),
    )  # fmt: skip
    if _print(manifest, json_):
        return
    corpus = manifest["corpus"]
    _kv_table(f"{method} vectors -> {out}", {
        "sentences": corpus["sentences"], "tokens": corpus["tokens"], "distinct words": corpus["types"],
        "vocabulary (min-count)": manifest["vocab_size"], "dim": manifest["dim"], "seconds": manifest["seconds"],
    })  # fmt: skip


def _train_bag(source, out, dim, epochs, min_count, overwrite, json_, data_options) -> None:
    from reprlearn.data import load_dataset
    from reprlearn.errors import DataError
    from reprlearn.words.bag import train_bag_classifier

    ds = load_dataset(source, **data_options)
    if "label" not in ds.column_names:
        raise DataError(f"{source}: --method bag needs labels; pass --label-column NAME")
    names = ds.features["label"].names
    manifest = train_bag_classifier(
        list(ds["text"]),
        list(ds["label"]),
        names,
        out,
        dim=dim,
        epochs=epochs,
        min_count=min_count,
        overwrite=overwrite,
        progress=not json_,
    )
    if _print(manifest, json_):
        return
    mem = manifest["memory"]
    _kv_table(f"bag lookup table -> {out} (use it as bag:{out})", {
        "vocabulary": manifest["vocab_size"], "dim": manifest["dim"],
        "held-out accuracy (20%)": manifest["heldout_accuracy"],
        "one-hot input, bytes/item": mem["onehot_float32_bytes_per_item"],
        "dense input, bytes/item": mem["dense_float32_bytes_per_item"],
        "lookup table, bytes": mem["lookup_table_bytes"], "seconds": manifest["seconds"],
    })  # fmt: skip


@words_app.command()
def distill(
    model: Annotated[
        str, typer.Argument(help="minilm, st:PATH or a local sentence-transformers folder")
    ],
    out: Out,
    pca_dims: Annotated[
        int, typer.Option(help="output dimension (PCA); 0 keeps the model's")
    ] = 256,
    overwrite: Overwrite = False,
    json_: o.Json = False,
) -> None:
    """Distil MODEL into a model2vec static model (offline, from the local folder) at OUT."""
    from reprlearn.words.distill import distill_static

    facts = distill_static(model, out, pca_dims=pca_dims or None, overwrite=overwrite)
    if not _print(facts, json_):
        _kv_table(f"static model -> {out} (use it as static:{out})", facts)


@words_app.command("eval")
def eval_(
    vectors: Vectors,
    analogies: Annotated[
        str | None, typer.Option(help="your analogy file (': section' + 'a b c d' lines)")
    ] = None,
    pairs: Annotated[
        list[str] | None, typer.Option(help="your word-pair file(s): word1<TAB>word2<TAB>score")
    ] = None,
    json_: o.Json = False,
) -> None:
    """Analogies (semantic, syntactic, coverage), WordSim-353 and SimLex-999 (Spearman, OOV share)."""
    from reprlearn.words.evaluate import evaluate_word_vectors
    from reprlearn.words.vectors import open_vectors

    kv, info = open_vectors(vectors)
    result = {
        **info,
        "vocab_size": len(kv.index_to_key),
        **evaluate_word_vectors(kv, analogies=analogies, pairs=pairs),
    }
    if json_:
        result["analogies"].pop("sections", None)
        _print(result, True)
        return
    a = result["analogies"]
    table = Table(title=f"word vectors {vectors} ({info['kind']}, {len(kv.index_to_key)} words)")
    for col in ("benchmark", "score", "coverage / OOV"):
        table.add_column(col)

    def fmt(x):
        return "n/a" if x is None else f"{x:.3f}"

    table.add_row(
        "analogies: all (3CosAdd accuracy)",
        fmt(a["accuracy"]),
        f"{a['answered']}/{a['questions']} answered ({a['coverage']:.1%})",
    )
    table.add_row("analogies: semantic", fmt(a["semantic"]), "")
    table.add_row("analogies: syntactic", fmt(a["syntactic"]), "")
    for name, p in result["pairs"].items():
        table.add_row(
            f"{name} (Spearman)",
            fmt(p["spearman"]),
            f"{p['oov_share']:.1%} of {p['pairs']} pairs OOV",
        )
    console.print(table)


@words_app.command()
def neighbors(
    vectors: Vectors,
    word: Annotated[str, typer.Argument(help="the word")],
    k: Annotated[int, typer.Option(help="neighbours to list")] = 10,
    json_: o.Json = False,
) -> None:
    """The K nearest words to WORD by cosine."""
    from reprlearn.words.analogy import neighbors as nearest
    from reprlearn.words.vectors import open_vectors

    kv, _ = open_vectors(vectors)
    result = nearest(kv, word.lower() if word.lower() in kv.key_to_index else word, k)
    if _print(result, json_):
        return
    table = Table(
        title=f"nearest to {word!r}"
        + (
            " (built from subwords: not in the vocabulary)"
            if result["oov_built_from_subwords"]
            else ""
        )
    )
    table.add_column("rank")
    table.add_column("word")
    table.add_column("cosine")
    for i, (w, s) in enumerate(result["neighbors"], 1):
        table.add_row(str(i), escape(w), f"{s:.4f}")
    console.print(table)


@words_app.command("analogy")
def analogy_cmd(
    vectors: Vectors,
    a: Annotated[str, typer.Argument(help="e.g. king")],
    b: Annotated[str, typer.Argument(help="e.g. man")],
    c: Annotated[str, typer.Argument(help="e.g. woman: answers a - b + c")],
    expected: Annotated[
        str | None, typer.Option(help="report the rank of this answer (e.g. queen)")
    ] = None,
    method: Annotated[str, typer.Option(help="3cosadd, 3cosmul or both")] = "both",
    k: Annotated[int, typer.Option(help="answers to list")] = 5,
    json_: o.Json = False,
) -> None:
    """A is to B as ? is to C: the words nearest A - B + C (3CosAdd and 3CosMul)."""
    from reprlearn.words.analogy import analogy
    from reprlearn.words.vectors import open_vectors

    kv, _ = open_vectors(vectors)
    methods = ["3cosadd", "3cosmul"] if method == "both" else [method]
    results = [analogy(kv, a, b, c, expected=expected, k=k, method=m) for m in methods]
    if _print(results if len(results) > 1 else results[0], json_):
        return
    for r in results:
        table = Table(title=f"{r['query']} ({r['method']})")
        table.add_column("rank")
        table.add_column("word")
        table.add_column("score")
        for i, (w, s) in enumerate(r["answers"], 1):
            table.add_row(
                str(i), f"[bold]{escape(w)}[/]" if w == expected else escape(w), f"{s:.4f}"
            )
        console.print(table)
        if expected is not None:
            rank = (
                "not in the vocabulary"
                if r["rank"] is None
                else f"rank {r['rank']} (score {r['score']:.4f})"
            )
            console.print(f"expected {expected!r}: {rank}", markup=False)


@words_app.command("map")
def map_cmd(
    vectors: Vectors,
    words: Annotated[list[str], typer.Argument(help="the words to place (3 or more)")],
    out: Annotated[str, typer.Option("--out", "-o", help="PNG file to write")] = "word_map.png",
    json_: o.Json = False,
) -> None:
    """A 2-D map (PCA) of chosen WORDS, written as a PNG."""
    from reprlearn.words.vectors import open_vectors
    from reprlearn.words.wordmap import word_map

    kv, _ = open_vectors(vectors)
    coords = word_map(kv, words, out, title=f"word map: {vectors}")
    if not _print({"out": out, "coordinates": coords}, json_):
        console.print(f"wrote {out}", markup=False)


@words_app.command()
def context(
    encoder: Annotated[
        str,
        typer.Argument(
            help="minilm, st:PATH, hf:PATH (contextual) or static:/w2v:/fasttext: (static)"
        ),
    ],
    word: Annotated[str, typer.Argument(help="the word, e.g. bank")],
    sentences: Annotated[
        str | None,
        typer.Option(
            help=".txt (one per line) or .csv; default: built-in examples (bank, bat, spring, plant, bass)"
        ),
    ] = None,
    text_column: o.TextColumn = None,
    sense_column: Annotated[
        str | None, typer.Option(help="CSV column with each sentence's sense")
    ] = None,
    senses: Annotated[
        int | None, typer.Option(help="clusters (default: number of senses, else 2)")
    ] = None,
    encoding: o.Encoding = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out", "-o", help="folder for similarity.png, map.png, senses.csv, result.json"
        ),
    ] = None,
    overwrite: Overwrite = False,
    json_: o.Json = False,
) -> None:
    """The vectors of WORD in each sentence: cosine matrix, 2-D map, clusters into senses,
    purity and WiC-style same-sense accuracy (with --sense-column)."""
    from reprlearn.words.context import word_senses

    texts = labels = None
    if sentences is not None:
        from reprlearn.data import load_dataset

        o.quiet_datasets()
        ds = load_dataset(
            sentences,
            **o.data_options(text_column=text_column, label_column=sense_column, encoding=encoding),
        )
        texts = list(ds["text"])
        if sense_column:
            names = ds.features["label"].names
            labels = [names[i] for i in ds["label"]]
    result = word_senses(encoder, word, texts, labels, n_senses=senses)
    if out is not None:
        from reprlearn.outdir import writer_lock
        from reprlearn.words.senses_report import write_senses_report
        from reprlearn.words.vectors import fresh_out_dir

        folder = fresh_out_dir(out, "senses", overwrite, "result.json")
        with writer_lock(folder):
            write_senses_report(result, folder)
    summary = {
        k: result[k]
        for k in (
            "word",
            "n",
            "encoder",
            "static",
            "purity",
            "same_sense_accuracy",
            "threshold",
            "note",
        )
    }
    summary["majority_baseline"] = result.get("majority_baseline")
    if _print(summary, json_):
        return
    _kv_table(f"{word!r} in {result['n']} sentences" + (f" -> {out}" if out else ""), summary)
