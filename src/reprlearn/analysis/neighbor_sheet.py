"""The neighbours themselves, for a person to judge: one row per sampled item, its
thumbnail or text, then its nearest neighbours with label and cosine.

"Do the nearest neighbours match intuition?" is answered by looking at the items, not
at their labels: this sheet is ``neighbors.png`` of ``inspect`` and of every encoder in
``compare``'s report.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from reprlearn.analysis.neighbors import Neighbors


def neighbor_sheet(
    nb: Neighbors,
    ids: Any,
    label_of: Callable[[int], str],
    items: dict[int, Any],
    modality: str | None,
    path: str | Path,
    title: str,
) -> Path | None:
    """Draw the query items of ``nb`` and their neighbours as a contact sheet PNG.

    Args:
        nb: neighbours of the sampled items (store row indices).
        ids: int64 ``(n,)`` source row ids of the store rows (for captions).
        label_of: store row index -> label name ('' without labels).
        items: store row index -> text, or ``(PIL image, path)`` for images.
        modality: ``"text"`` or ``"image"``; None (source not reloadable) draws nothing.
        path: the PNG to write.
        title: the figure title.
    Returns:
        ``path``, or None when there are no items to show.
    """
    from reprlearn.search.contact_sheet import contact_sheet
    from reprlearn.search.items import Items

    if modality not in ("text", "image") or not items:
        return None
    shown = Items(modality)
    for row, item in items.items():
        if modality == "image":
            shown.image[row], shown.text[row] = item
        else:
            shown.text[row] = item
    rows = []
    for q, neighbours, cosines in zip(nb.queries, nb.indices, nb.cosines, strict=True):
        cells = [{"id": int(q), "caption": f"#{ids[q]} {label_of(int(q))}"[:28]}]
        cells += [
            {"id": int(j), "caption": f"{label_of(int(j))} · {c:.2f}"[:28]}
            for j, c in zip(neighbours, cosines, strict=True)
        ]
        rows.append(cells)
    return Path(contact_sheet(rows, shown, path, title))
