"""``store:PATH``: the already-fitted encoder of an embedding store, to embed new data in
that store's space.

An encoder fitted on the data (``tfidf``, ``lsa:D``, ``pca:D``, ...) fitted again on a
test split maps it into another space, and scores across the two are meaningless.
``store:TRAIN`` reads ``TRAIN/manifest.json`` (its encoder name) and ``TRAIN/encoder/``
(its fitted state) and returns that encoder, fitted, so::

    reprlearn embed test.csv -e store:stores/train -o stores/test
    reprlearn embed test.csv --fitted-from stores/train -o stores/test   # the same

    from reprlearn import embed, load_encoder
    embed(test_ds, load_encoder("store:stores/train"), "stores/test")

puts the test split in the training store's space; the new store's manifest records
``fitted_from`` (TRAIN's resolved path) and the same ``fitted_state_fingerprint``, which
:func:`reprlearn.store.same_space` checks. Encoders that need no fit (``minilm``,
``ckpt:RUN``) work too: ``store:TRAIN`` then just rebuilds the same encoder, and refuses
when its weights changed since TRAIN was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reprlearn.encoders.base import Encoder
from reprlearn.encoders.fingerprint import fitted_state_fingerprint, weights_fingerprint
from reprlearn.encoders.registry import load_encoder, register
from reprlearn.errors import StoreError


def load_fitted(store: str | Path, **options: Any) -> Encoder:
    """The encoder that wrote the store at ``store``, with its fitted state loaded.

    The returned encoder carries ``fitted_from`` = ``{"store", "encoder_name",
    "fitted_state_fingerprint"}``, which :func:`reprlearn.embed` records in the new store.

    Raises:
        StoreError: not a complete store; an encoder that needs a fit but the store has no
            ``encoder/`` state; the encoder's weights changed since the store was written.
    """
    from reprlearn.store import read_manifest

    path = Path(store)
    manifest = read_manifest(path, required=("encoder_name", "status"))
    if manifest.get("status") != "complete":
        raise StoreError(
            f"{path} is incomplete: finish it (rerun its `reprlearn embed` command) before "
            "using its fitted state"
        )
    name = str(manifest["encoder_name"])
    modality = (manifest.get("encoder") or {}).get("modality")
    if name.startswith(("open_clip:",)) and modality and "modality" not in options:
        options["modality"] = modality
    encoder = load_encoder(name, **options)
    state_dir = path / "encoder"
    if encoder.requires_fit:
        if not (state_dir / "state.json").is_file():
            raise StoreError(
                f"{path} has no fitted state of {name!r} ({state_dir} is missing); rerun its "
                "`reprlearn embed` command with --overwrite"
            )
        encoder.load(state_dir)
    recorded = manifest.get("weights_fingerprint")
    if recorded and weights_fingerprint(name) != recorded:
        raise StoreError(
            f"the weights of {name!r} changed since {path} was written, so new vectors would "
            f"not live in its space; re-embed {path} with --overwrite first"
        )
    encoder.fitted_from = {  # type: ignore[attr-defined]
        "store": str(path.resolve()),
        "encoder_name": name,
        "fitted_state_fingerprint": fitted_state_fingerprint(state_dir),
    }
    return encoder


@register(
    "store",
    description="the fitted encoder of an embedding store: new data in that store's space",
    example="store:stores/train",
)
def _store(identifier: str, **options: Any) -> Encoder:
    if not identifier:
        raise ValueError("store: needs a store folder, e.g. store:stores/train")
    return load_fitted(identifier, **options)
