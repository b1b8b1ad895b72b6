"""Export a store for the TensorBoard Embedding Projector.

Files (the projector's documented formats, tensorflow/tensorboard
``plugins/projector``): ``tensors.tsv`` (one vector per line, tab-separated),
``metadata.tsv`` (a header row ``id<TAB>label<TAB>text|image``, then one row per
vector), ``sprite.png`` for image stores (thumbnails in a square grid, row-major, at
most 8192 x 8192 pixels) and ``projector_config.pbtxt`` pointing at them. Load with
``tensorboard --logdir OUT`` (Projector tab), or upload the TSVs to
projector.tensorflow.org.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reprlearn.errors import ReprlearnError
from reprlearn.outdir import prepare_out_dir, writer_lock
from reprlearn.search.items import load_items
from reprlearn.store import EmbeddingStore

SPRITE_MAX_PIXELS = 8192


@dataclass
class TensorBoardExport:
    """What :func:`export_tensorboard` wrote: ``out``, ``num_items``, ``dim``, ``files``
    (name -> path) and ``thumbnail`` (sprite cell side in pixels, 0 without a sprite)."""

    out: Path
    num_items: int
    dim: int
    files: dict[str, str]
    thumbnail: int


def _tsv_cell(value: object) -> str:
    from reprlearn.tables import safe_csv_cell

    text = "" if value is None else str(value)
    return str(safe_csv_cell(" ".join(text.replace("\t", " ").splitlines())))


def _sprite(images: list, side: int, path: Path) -> None:
    from PIL import Image

    cols = math.ceil(math.sqrt(len(images)))
    sheet = Image.new("RGB", (cols * side, cols * side), "white")
    for i, img in enumerate(images):
        thumb = img.convert("RGB").resize((side, side))
        sheet.paste(thumb, ((i % cols) * side, (i // cols) * side))
    sheet.save(path)


def export_tensorboard(
    store: EmbeddingStore | str | Path,
    out: str | Path,
    *,
    sample: int | None = None,
    seed: int = 0,
    overwrite: bool = False,
) -> TensorBoardExport:
    """Write ``store`` (or a seeded sample of ``sample`` items) for the Embedding Projector.

    Args:
        store: an :class:`EmbeddingStore` or its folder.
        out: the output folder (a reprlearn ``tensorboard`` folder).
        sample: items to export (default: all).
        seed: seed of the sample.
        overwrite: replace an existing export at ``out``.

    Raises:
        ReprlearnError: ``sample`` < 1.
        OutputError: ``out`` holds files reprlearn did not write.
    """
    store = store if isinstance(store, EmbeddingStore) else EmbeddingStore.open(store)
    if sample is not None and sample < 1:
        raise ReprlearnError(
            f"--sample {sample} must be at least 1 (or leave it out for all items)"
        )
    X, y = store.to_numpy()
    ids = store.ids()
    rows = np.arange(len(ids))
    if sample is not None and sample < len(ids):
        rows = np.sort(np.random.default_rng(seed).choice(len(ids), sample, replace=False))
    out = prepare_out_dir(out, kind="tensorboard", overwrite=overwrite)
    with writer_lock(out):
        np.savetxt(out / "tensors.tsv", X[rows], delimiter="\t", fmt="%.6g")
        items = load_items(store, ids[rows], images=True)
        key = "image" if items.modality == "image" else "text"
        names = store.label_names
        with open(out / "metadata.tsv", "w", encoding="utf-8") as f:
            f.write(f"id\tlabel\t{key}\n")
            for r in rows:
                label = "" if y is None else (names[int(y[r])] if names else int(y[r]))
                f.write(
                    f"{int(ids[r])}\t{_tsv_cell(label)}\t{_tsv_cell(items.text.get(int(ids[r])))}\n"
                )
        side = 0
        config = [
            "embeddings {",
            f'  tensor_name: "{store.path.name}"',
            f"  tensor_shape: {len(rows)}",
            f"  tensor_shape: {store.dim}",
            '  tensor_path: "tensors.tsv"',
            '  metadata_path: "metadata.tsv"',
        ]
        if items.modality == "image" and items.image:
            side = int(min(64, SPRITE_MAX_PIXELS // math.ceil(math.sqrt(len(rows)))))
            _sprite([items.image[int(i)] for i in ids[rows]], side, out / "sprite.png")
            config += ["  sprite {", '    image_path: "sprite.png"',
                       f"    single_image_dim: {side}", f"    single_image_dim: {side}", "  }"]  # fmt: skip
        config.append("}")
        (out / "projector_config.pbtxt").write_text("\n".join(config) + "\n")
    names_written = ["tensors.tsv", "metadata.tsv", "projector_config.pbtxt"] + (
        ["sprite.png"] if side else []
    )
    files = {n: str(out / n) for n in names_written}
    return TensorBoardExport(out, len(rows), store.dim, files, side)
