"""Files of ``words context``: ``similarity.png``, ``map.png``, ``senses.csv``, ``result.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def write_senses_report(result: dict[str, Any], out: str | Path) -> Path:
    """Write the outputs of :func:`reprlearn.words.context.word_senses` to ``out``.

    Rows of the similarity matrix are ordered by sense (or cluster) so blocks show.
    ``senses.csv`` cells are made spreadsheet-safe (:func:`reprlearn.tables.write_csv`).
    """
    from reprlearn.analysis.plots import projection_scatter, similarity_heatmap
    from reprlearn.outdir import write_json_atomic
    from reprlearn.tables import write_csv

    out = Path(out)
    groups = result["senses"] or [f"cluster {c}" for c in result["clusters"]]
    order = np.argsort(np.asarray(groups), kind="stable")
    sim = np.asarray(result["similarity"])[np.ix_(order, order)]
    texts = [result["texts"][i] for i in order]
    title = f"cosine of {result['word']!r} across sentences ({result['encoder']})"
    if result["static"]:
        title += ": identical (static)"
    similarity_heatmap(
        sim, [groups[i] for i in order], out / "similarity.png", texts=texts, title=title
    )
    names = sorted(set(groups))
    y = np.array([names.index(g) for g in groups])
    projection_scatter(
        np.asarray(result["map"]),
        y,
        names,
        out / "map.png",
        title=f"{result['word']!r} in context: PCA of its vectors",
        axis_labels=("PC1", "PC2"),
    )
    rows = [
        {
            "row": i + 1,
            "text": t,
            "sense": (result["senses"] or [None] * result["n"])[i],
            "cluster": c,
            "x": p[0],
            "y": p[1],
        }
        for i, (t, c, p) in enumerate(
            zip(result["texts"], result["clusters"], result["map"], strict=True)
        )
    ]
    write_csv(rows, out / "senses.csv")
    write_json_atomic(out / "result.json", result)
    return out
