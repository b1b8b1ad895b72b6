"""The comparison report as one self-contained HTML file (images inlined as base64)."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px 32px 64px}
h1{margin:8px 0 4px;font-size:28px} h2{margin-top:36px;border-bottom:2px solid #e2e5ea;padding-bottom:6px}
h3{margin:18px 0 8px}
.sub{color:#5b6475;margin-bottom:18px}
.conclusion{background:#fff;border-left:5px solid #2f7d4f;padding:14px 18px;margin:18px 0;font-size:16px;line-height:1.5;border-radius:4px}
table{border-collapse:collapse;background:#fff;font-size:14px;margin:8px 0}
th,td{padding:6px 10px;border-bottom:1px solid #e6e8ec;text-align:right}
th{background:#eef0f4;text-align:center} td:first-child,th:first-child,td.name{text-align:left}
tr.best td{font-weight:600;background:#eef8f1}
.grid{display:flex;flex-wrap:wrap;gap:16px}
.card{background:#fff;border-radius:6px;padding:12px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card{flex:1 1 420px;max-width:520px} .card img{width:100%;display:block}
.card.wide{flex:1 1 100%;max-width:760px}
.verdict{font-weight:600} .warn{color:#b3541e} .ok{color:#2f7d4f}
.small{font-size:12px;color:#5b6475}
"""


def _img(path: Path, alt: str) -> str:
    if not path.is_file():
        return f'<p class="small">({html.escape(alt)} not available)</p>'
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(headers: list[str], rows: list[list[str]], best_first: bool = False) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="best"' if best_first and i == 0 else ""
        body.append(
            f"<tr{cls}>"
            + "".join(f"<td{_align(c)}>{html.escape(str(c))}</td>" for c in row)
            + "</tr>"
        )
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _align(cell: Any) -> str:
    """Left-align words (encoder names, texts), right-align numbers."""
    text = str(cell).replace(",", "").replace(".", "").replace(" ± ", "").replace("%", "")
    return "" if text.lstrip("-").isdigit() else ' class="name"'


def _encoder_section(enc: dict[str, Any], out: Path) -> str:
    files = {k: out / v for k, v in enc.get("files", {}).items()}
    status = enc.get("geometry_status", "")
    cls = "ok" if status == "healthy" else "warn"
    parts = [
        f'<h3>{html.escape(enc["encoder"])} <span class="small">({enc["dim"]}-d)</span></h3>',
        f'<p class="verdict {cls}">{html.escape(enc.get("verdict", ""))}</p>',
        '<div class="grid">',
        f'<div class="card"><b>cosine similarity of a stratified sample</b>{_img(files.get("similarity", Path()), "similarity")}</div>',
        f'<div class="card"><b>2-D map coloured by label</b>{_img(files.get("map", Path()), "map")}</div>',
    ]
    for key, title in (
        ("recon", "inputs (top) and reconstructions"),
        ("samples", "samples from the prior"),
    ):
        if key in files:
            parts.append(f'<div class="card"><b>{title}</b>{_img(files[key], key)}</div>')
    if "confusion" in files:
        parts.append(
            f'<div class="card"><b>linear probe confusion matrix</b>{_img(files["confusion"], "confusion")}</div>'
        )
    if "neighbors" in files:
        parts.append(
            '<div class="card wide"><b>nearest neighbours: each row an item, then its '
            f"neighbours (label · cosine)</b>{_img(files['neighbors'], 'neighbours')}</div>"
        )
    parts.append("</div>")
    parts += _confusion_tables(files)
    neighbours = enc.get("neighbor_examples", [])
    if neighbours:
        parts.append(
            "<p><b>nearest neighbours</b> (cosine; same-label share "
            f"{100 * enc.get('neighbor_agreement', 0):.1f}%)</p>"
        )
        parts.append(
            _table(
                ["item", "label", "neighbours (label, cosine)"],
                [[n["item"], n["label"], n["neighbors"]] for n in neighbours],
            )
        )
    return "\n".join(parts)


def _confusion_tables(files: dict[str, Path], shown: int = 15) -> list[str]:
    """Above 20 classes (where the matrix image is unreadable): the most confused pairs
    and the worst per-class accuracies, from the CSVs of
    :func:`reprlearn.analysis.confusion.confusion_report`."""
    import csv

    from reprlearn.analysis.confusion import MANY_CLASSES

    pairs, accuracy = files.get("confused_pairs.csv"), files.get("per_class_accuracy.csv")
    if not (pairs and accuracy and pairs.is_file() and accuracy.is_file()):
        return []
    with open(accuracy, newline="", encoding="utf-8") as f:
        classes = list(csv.DictReader(f))
    if len(classes) <= MANY_CLASSES:
        return []
    with open(pairs, newline="", encoding="utf-8") as f:
        confused = list(csv.DictReader(f))[:shown]
    return [
        f"<p><b>most confused pairs</b> (linear probe, test items; all {len(classes)} "
        "classes in confusion.csv)</p>",
        _table(["true", "predicted", "count", "share of true"],
               [[r["true"], r["predicted"], r["count"], r["share_of_true"]] for r in confused]),
        f"<p><b>per-class accuracy, worst {min(shown, len(classes))} of {len(classes)}</b></p>",
        _table(["class", "accuracy", "correct", "items"],
               [[r["class"], r["accuracy"], r["correct"], r["support"]] for r in classes[:shown]]),
    ]  # fmt: skip


def _num(value: Any, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _sources(result: dict[str, Any]) -> str:
    """``"train_5500.label (train, 5,452 items) → TREC_10.label (test, 500 items)"``."""
    source = f"{Path(str(result['source'])).name or result['source']}"
    if result.get("test"):
        test = Path(str(result["test"])).name or result["test"]
        return (
            f"{source} (train, {result['n_items']:,} items) \u2192 {test} "
            f"(test, {result.get('n_test') or 0:,} items)"
        )
    return f"{source}: {result['n_items']:,} items"


def _split_words(result: dict[str, Any]) -> str:
    """One sentence on what the probes trained on and scored."""
    if result.get("test"):
        return (
            f"Probes train on {result['source']} ({result['n_items']:,} items) and score the "
            f"held-out {result['test']} ({result.get('n_test') or 0:,} items); k-means and "
            "LogME describe the held-out items."
        )
    return "Probes train on a seeded stratified 80% split and score the other 20%."


def _label_efficiency_section(result: dict[str, Any], out: Path) -> list[str]:
    if "label_efficiency" not in result.get("files", {}):
        return []
    ranking = result["ranking"]
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.get("notes", []))
    return [
        "<h2>Label efficiency</h2>",
        '<p class="small">linear-probe accuracy (%) with k labelled examples per class, mean &plusmn; '
        "std over repeated draws; scored on the same test items as the probes.</p>",
        f'<ul class="small">{notes}</ul>' if notes else "",
        f'<div class="card">{_img(out / result["files"]["label_efficiency"], "label efficiency")}</div>',
        _table(
            ["encoder"] + [str(b) for b in result.get("budgets", [])],
            [[e["encoder"]] + e.get("label_efficiency_text", []) for e in ranking],
        ),
    ]


def write_html(result: dict[str, Any], out: str | Path, path: str | Path | None = None) -> Path:
    """Write ``report.html`` for a :class:`~reprlearn.report.compare.CompareResult` dict.

    Args:
        result: ``CompareResult.to_dict()``: ``source``, ``n_items``, ``n_classes``,
            ``ranking`` (list of per-encoder dicts, best first), ``conclusion``, ``files``.
        out: the report folder (image paths in ``result`` are relative to it).
        path: output file (default ``out/report.html``).
    Returns:
        The path written.
    """
    out = Path(out)
    path = Path(path) if path else out / "report.html"
    ranking = result["ranking"]
    headers = [
        "#",
        "encoder",
        "dim",
        "linear acc",
        "kNN acc",
        "k-means NMI",
        "eff. rank",
        "LogME",
        "items/s",
        "eval s",
    ]
    rows = [
        [
            str(i + 1),
            e["encoder"],
            str(e["dim"]),
            e["linear_text"],
            e["knn_text"],
            _num(e.get("nmi"), ".3f"),
            f"{e['effective_rank']:.1f}",
            _num(e.get("logme"), ".3f"),
            f"{e['items_per_s']:,.0f}" if e.get("items_per_s") else "cached",
            _num(e.get("eval_seconds"), ",.1f"),
        ]
        for i, e in enumerate(ranking)
    ]
    body = [
        "<h1>Which representation makes this task easy?</h1>",
        f'<div class="sub">{html.escape(_sources(result))} &middot; '
        f"{result['n_classes']} classes &middot; {len(ranking)} encoders</div>",
        f'<div class="conclusion">{html.escape(result["conclusion"])}</div>',
        "<h2>Ranking</h2>",
        _table(headers, rows, best_first=True),
        f'<p class="small">{html.escape(_split_words(result))} linear acc: standardised features + logistic regression; &plusmn; = half-width '
        "of the 95% bootstrap interval over the test items; kNN: cosine, k=20, temperature-weighted votes (DINO); NMI: k-means with k = number of "
        "classes; eff. rank: RankMe; LogME: label evidence without training (higher is better); "
        "&mdash;: protocol not run (--protocols); eval s: seconds of inspection and evaluation "
        "(embedding not counted; results.json has every stage's seconds). Ties "
        "between the top two are judged by McNemar's exact test on the same test items.</p>",
    ]
    body += _label_efficiency_section(result, out)
    body += ["<h2>Inside each embedding space</h2>"]
    body += [_encoder_section(e, out) for e in ranking]
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>reprlearn compare: {html.escape(str(result['source']))}</title>"
        f"<style>{_CSS}</style></head><body><main>{''.join(body)}"
        f'<p class="small">reprlearn {html.escape(result.get("version", ""))} &middot; '
        "results.json and results.csv hold every number shown here.</p></main></body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path
