"""What makes two embedding stores comparable, said in words.

* :func:`identity_change`: why an existing store does not match a new ``embed`` command
  (another encoder, another source, changed weights, other settings), as a sentence a
  user can act on, instead of a raw ``source_fingerprint='b3f4...'`` comparison.
* :func:`same_space`: whether two stores live in one embedding space, so a model trained
  on one may be scored on the other (``probe --test``, ``compare --test``). Encoders
  fitted on the data (``tfidf``, ``lsa:D``, ``pca:D``) fitted separately on two splits
  map them into unrelated spaces; the fix is ``embed TEST --fitted-from TRAIN``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reprlearn.encoders.fingerprint import fitted_state_fingerprint

if TYPE_CHECKING:
    from reprlearn.store import EmbeddingStore


# what a key meant in stores written before it was recorded
_BEFORE_KEY_EXISTED: dict[str, Any] = {"fitted_from": None}


def _with(flag: Any) -> str:
    return "with" if flag else "without"


def _source_change(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The source changed: how, in words (labels, rows, file/options, else content)."""
    o_src, n_src = old.get("source") or {}, new.get("source") or {}
    o_labels, n_labels = old.get("label_names"), new.get("label_names")
    changes = []
    if o_labels is None and n_labels is not None:
        changes.append("it now has a label column")
    elif o_labels is not None and n_labels is None:
        changes.append("it no longer has a label column")
    elif o_labels != n_labels:
        changes.append(f"its classes changed ({len(o_labels)} -> {len(n_labels)} classes)")
    o_spec, n_spec = o_src.get("spec"), n_src.get("spec")
    if isinstance(o_spec, dict) and isinstance(n_spec, dict) and o_spec != n_spec:
        keys = sorted(set(o_spec) | set(n_spec), key=lambda k: (k != "source", k))
        changes += [
            f"{k} {o_spec.get(k)!r} -> {n_spec.get(k)!r}"
            for k in keys
            if o_spec.get(k) != n_spec.get(k)
        ]
    if o_src.get("num_rows") != n_src.get("num_rows") and o_src.get("num_rows") is not None:
        changes.append(
            f"it now has {n_src.get('num_rows')} rows, the store {o_src.get('num_rows')}"
        )
    if not changes:
        changes.append("its content changed since this store was written")
    return "the source changed: " + ", ".join(changes)


def _fitted_from_change(old: Any, new: Any) -> str:
    if old is None:
        return f"it was fitted on its own data, this command reuses the fitted state of {new} (--fitted-from)"
    if new is None:
        return f"it was embedded with the fitted state of {old} (--fitted-from), this command fits the encoder afresh"
    return f"it was embedded with the fitted state of {old}, not {new}"


def _key_change(key: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    o, n = old.get(key), new.get(key)
    if key == "encoder_name":
        return f"it was embedded with encoder {o!r}, not {n!r}"
    if key == "source_fingerprint":
        return _source_change(old, new)
    if key == "normalized":
        return f"it was written {_with(o)} --normalize, this command runs {_with(n)} it"
    if key == "precision":
        return f"it was embedded at precision {o}, this command asks for {n} (--precision)"
    if key == "shard_size":
        return f"it was written with --shard-size {o}, not {n}"
    if key == "weights_fingerprint":
        return (
            "the encoder's weights changed since this store was written (its weight files differ)"
        )
    if key == "fitted_from":
        return _fitted_from_change(o, n)
    return f"its {key} is {o!r}, not {n!r}"


def identity_change(old: dict[str, Any], new: dict[str, Any], keys: Sequence[str]) -> str | None:
    """Why a store with manifest ``old`` cannot be resumed or reused by a run with header
    ``new``, as one sentence (the differing ``keys`` in words), or None when they match.

    A key missing from ``old`` (a store written before that key existed) is not compared,
    so older stores stay reusable; except ``fitted_from``, which such stores never used. When ``new`` reuses another store's fitted state
    (``fitted_from``), a changed ``fitted_state_fingerprint`` counts as a change too."""
    old = {**_BEFORE_KEY_EXISTED, **old}
    changes = [_key_change(k, old, new) for k in keys if k in old and old[k] != new.get(k)]
    fp = "fitted_state_fingerprint"
    if new.get("fitted_from") and old.get(fp) and new.get(fp) and old[fp] != new[fp]:
        changes.append(
            f"the fitted state of {new['fitted_from']} changed since this store was written"
        )
    return "; ".join(changes) if changes else None


def state_fingerprint(store: EmbeddingStore) -> str | None:
    """The store's ``fitted_state_fingerprint`` (from its manifest, or computed from
    ``STORE/encoder`` for stores written before the manifest recorded it)."""
    if "fitted_state_fingerprint" in store.manifest:
        return store.manifest["fitted_state_fingerprint"]
    return fitted_state_fingerprint(store.path / "encoder")


def same_space(a: EmbeddingStore, b: EmbeddingStore) -> str | None:
    """None when stores ``a`` (e.g. training) and ``b`` (e.g. test) live in one embedding
    space, else a sentence saying why not and how to fix it.

    Same space: the same encoder name and dimension, the same weights (when loaded from
    local files), the same normalisation, and the same fitted state (or none needed).
    Fix for a fitted encoder: ``reprlearn embed TEST --fitted-from TRAIN``.
    """
    fix = f"`reprlearn embed TEST --fitted-from {a.path} --out {b.path} --overwrite`"
    if a.encoder_name != b.encoder_name or a.dim != b.dim:
        return (
            f"{a.path} was embedded with {a.encoder_name!r} ({a.dim}-d) and {b.path} with "
            f"{b.encoder_name!r} ({b.dim}-d): different encoders give unrelated spaces; embed "
            f"both with the same encoder, e.g. {fix}"
        )
    wa, wb = a.manifest.get("weights_fingerprint"), b.manifest.get("weights_fingerprint")
    if wa and wb and wa != wb:
        return (
            f"{a.path} and {b.path} were embedded with different weights of {a.encoder_name!r} "
            "(the checkpoint changed in between); re-embed the older one with --overwrite"
        )
    if bool(a.manifest.get("normalized")) != bool(b.manifest.get("normalized")):
        return (
            f"{a.path} was written {_with(a.manifest.get('normalized'))} --normalize and {b.path} "
            f"{_with(b.manifest.get('normalized'))}; embed both the same way"
        )
    if state_fingerprint(a) != state_fingerprint(b):
        return (
            f"{b.path} and {a.path} were embedded by {a.encoder_name!r} fitted separately on "
            "each, so they live in different embedding spaces; embed the test split in the "
            f"training store's space: {fix}"
        )
    return None
