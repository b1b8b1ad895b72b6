"""A contact sheet: rows of items (thumbnails or texts) for a person to check by eye,
e.g. one row per duplicate group, or a test item beside its leaked training twin."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from reprlearn.search.items import Items  # noqa: E402

MAX_ROWS = 16
MAX_COLUMNS = 6


def contact_sheet(
    rows: list[list[dict[str, Any]]],
    items: Items,
    path: str | Path,
    title: str,
) -> Path:
    """Draw ``rows`` (each a list of ``{"id", "caption", "items"}`` cells, at most 16 rows
    x 6 cells shown) as a PNG at ``path``: the image thumbnail of each id, or its text
    wrapped, under a caption (id, label, cosine). ``cell["items"]`` overrides ``items``
    (a leakage row shows items of two stores). Returns ``path``."""
    shown = rows[:MAX_ROWS]
    ncols = max(1, min(MAX_COLUMNS, max((len(r) for r in shown), default=1)))
    image = items.modality == "image"
    cell_w, cell_h = (1.6, 1.9) if image else (2.6, 1.5)
    fig, axes = plt.subplots(
        max(1, len(shown)), ncols, figsize=(max(6.0, cell_w * ncols), cell_h * max(1, len(shown)) + 0.6),
        squeeze=False,
    )  # fmt: skip
    for r, row in enumerate(shown):
        for c in range(ncols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(row):
                ax.axis("off")
                continue
            cell = row[c]
            src: Items = cell.get("items") or items
            picture = src.image.get(cell["id"])
            if picture is not None:
                ax.imshow(picture.convert("RGB"))
            else:
                text = src.text.get(cell["id"]) or f"#{cell['id']}"
                ax.text(0.03, 0.95, textwrap.fill(text[:240], 34), va="top", ha="left",
                        fontsize=6.5, transform=ax.transAxes, wrap=True)  # fmt: skip
            ax.set_title(cell["caption"], fontsize=7)
    if not shown:
        axes[0][0].text(0.5, 0.5, "nothing found", ha="center", va="center")
        axes[0][0].axis("off")
    more = f" (first {MAX_ROWS} of {len(rows)})" if len(rows) > MAX_ROWS else ""
    fig.suptitle(title + more, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))  # room for the title
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
