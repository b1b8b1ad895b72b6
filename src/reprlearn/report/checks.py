"""Checks ``compare`` runs before any work: every option, encoder name, modality and
optional dependency, so a typo in the third encoder never costs the first one's run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reprlearn.errors import DataError
from reprlearn.evaluation.probe import parse_names

PROBES = ("linear", "knn", "kmeans", "mteb", "logme")
PROTOCOLS = (*PROBES, "label-efficiency")
RANK_BY = ("linear", "knn", "mteb")  # accuracy protocols, in order of preference


def parse_protocols(protocols: str | Sequence[str]) -> tuple[str, ...]:
    """``"all"`` or a comma-separated list / sequence of :data:`PROTOCOLS` -> their names.

    Raises:
        DataError: an unknown or empty name list, or none of :data:`RANK_BY` (the
            encoders are ranked by the first of linear, knn, mteb that runs).
    """
    names = parse_names(protocols, PROTOCOLS, PROTOCOLS, "--protocols: unknown")
    if not any(n in RANK_BY for n in names):
        raise DataError(
            f"--protocols {','.join(names)}: include linear, knn or mteb, which rank the encoders"
        )
    return tuple(names)


def check_numbers(*, repeats: int, sample: int, budgets: Sequence[int | str]) -> None:
    """``repeats >= 1``, ``sample >= 2``, budgets positive ints or ``"all"``.

    Raises:
        DataError: naming the option and what it accepts.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise DataError(f"--repeats {repeats!r}: use 1 or more draws per label budget")
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 2:
        raise DataError(f"--sample {sample!r}: use 2 or more items for the similarity matrix")
    bad = [b for b in budgets if b != "all" and (not isinstance(b, int) or b < 1)]
    if bad or not budgets:
        raise DataError(
            f"--label-efficiency {bad or 'empty'}: use positive integers and 'all', e.g. 1,2,5,10,all"
        )


def check_projection(projection: str) -> None:
    """A known 2-D map method whose library is installed.

    Raises:
        DataError: unknown method. MissingDependencyError: ``umap`` without umap-learn.
    """
    from reprlearn.analysis.projection import METHODS, check_available

    if projection not in METHODS:
        raise DataError(f"--projection {projection!r}: choose one of {', '.join(METHODS)}")
    check_available(projection)


def encoder_names(encoders: Sequence[str] | str | None) -> list[str] | None:
    """Encoder names, stripped; None = the defaults for the data's modality.

    Raises:
        DataError: an empty list or an empty name (``--encoders ""`` or ``"tfidf,,lsa"``).
        ValueError: an unknown name, with the closest registered names as a suggestion.
    """
    from reprlearn.encoders.registry import validate_encoder_name

    if encoders is None:
        return None
    raw = encoders.split(",") if isinstance(encoders, str) else list(encoders)
    names = [str(n).strip() for n in raw]
    if not names or any(not n for n in names):
        raise DataError(
            f"--encoders {','.join(names)!r} names no encoder{' (an empty name)' if names else ''}"
            ": give comma-separated names such as tfidf,lsa:128,minilm (`reprlearn encoders` "
            "lists them), or leave --encoders out for the defaults"
        )
    if len(set(names)) != len(names):
        raise DataError(f"--encoders lists an encoder twice: {','.join(names)}")
    for name in names:
        validate_encoder_name(name)
    return names


def check_modality(encoders: dict[str, Any], columns: Sequence[str], source: str) -> None:
    """Every loaded encoder reads a column the dataset has (``text`` or ``image``).

    Raises:
        DataError: names the mismatched encoders and the dataset's columns.
    """
    wrong = {n: e.modality for n, e in encoders.items() if e.modality not in columns}
    if wrong:
        listed = ", ".join(f"{n} reads {m}" for n, m in wrong.items())
        kind = "image" if "image" in columns else "text"
        raise DataError(
            f"{source} holds {kind} items (columns {list(columns)}), but {listed}: choose "
            f"encoders for {kind} (`reprlearn encoders` lists them)"
        )


def check_split(ds: Any, ds_test: Any | None, source: str, k: int = 20) -> tuple[int, str | None]:
    """Check the probes' split can be made and fit kNN's ``k`` to the training items.

    Without a test source the stratified 80/20 split needs 2 or more items per class.
    Returns ``(k, note)``: ``k`` unchanged, or the number of training items when there
    are fewer (with a note saying so).

    Raises:
        DataError: a class with a single item and no test source.
    """
    import numpy as np

    from reprlearn.data.labels import label_array

    labels = label_array(ds)
    names = list(getattr(ds.features["label"], "names", []) or [])
    if ds_test is None:
        counts = np.bincount(labels, minlength=max(len(names), 1))
        single = [names[i] if i < len(names) else str(i) for i in np.flatnonzero(counts == 1)]
        if single:
            raise DataError(
                f"{source}: class {single[0]!r} has a single item ({len(single)} such classes): "
                "the stratified 80/20 split needs 2 or more per class; add items, drop the "
                "class, or pass a held-out --test source"
            )
        n_train = len(labels) - int(np.ceil(0.2 * len(labels)))
    else:
        n_train = len(labels)
    if n_train >= k:
        return k, None
    return n_train, f"kNN uses k={n_train}: the training part has fewer than {k} items"
