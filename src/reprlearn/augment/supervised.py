"""Where supervised image augmentation applies in ``finetune``, and what the run records.

Augmentation changes the images the backbone sees, so it applies to the strategies that
train the backbone on images: ``partial``, ``full`` and lp-ft's second stage. ``freeze``
(and lp-ft's first stage) train the head on features cached once per image: there is no
image to augment, so the recipe is **ignored** there, with a warning, and ``config.json``
records ``"applied": false`` with the reason (a refusal would break strategy comparisons
such as ``--strategy freeze,full --augment default``). Text sources are refused: image
augmentation of a text is meaningless (text augmentation is ``--augment-text``).
"""

from __future__ import annotations

import warnings
from typing import Any

from reprlearn.augment.recipes import ImageAugment, image_augment
from reprlearn.errors import DataError

FREEZE_NOTE = (
    "--augment/--mixup/--cutmix are ignored by --strategy freeze (and lp-ft's first stage): "
    "the head trains on features cached once per image; use partial, full or lp-ft to "
    "train on augmented images"
)


def resolve_augment(augment: str | ImageAugment | dict[str, Any] | None,
                    source: Any = None) -> ImageAugment:  # fmt: skip
    """``"default"`` / an :class:`ImageAugment` / its ``to_dict()`` / None -> ImageAugment.

    Raises:
        ReprlearnError: an unknown recipe or out-of-range parameters.
    """
    if augment is None:
        return image_augment("none")
    if isinstance(augment, ImageAugment):
        aug = augment
    elif isinstance(augment, dict):
        aug = ImageAugment.from_dict(augment)
    else:
        aug = image_augment(str(augment), source=source if isinstance(source, str) else None)
    return aug


def augment_record(aug: ImageAugment, strategy: str, column: str, source: str) -> dict[str, Any]:
    """The ``config.json["options"]["augment"]`` record: the recipe's parameters and
    ``applied`` (False for ``freeze``, with ``note``); warns when ignored.

    Raises:
        DataError: image augmentation asked for a text source.
    """
    record = {**aug.to_dict(), "applied": False}
    if aug.is_identity:
        return record
    if column != "image":
        raise DataError(f"{source} holds texts: --augment/--mixup/--cutmix are image "
                        "augmentations; drop them (texts: --augment-text)")  # fmt: skip
    if strategy == "freeze":
        warnings.warn(FREEZE_NOTE, UserWarning, stacklevel=3)
        return {**record, "note": FREEZE_NOTE}
    return {**record, "applied": True}


def training_transforms(record: dict[str, Any] | None, n_classes: int):
    """``(per-image PIL transform | None, batch mixing | None)`` for an ``augment_record``;
    both None when the record is absent or not applied."""
    if not record or not record.get("applied"):
        return None, None
    from reprlearn.augment.mixing import BatchMixing
    from reprlearn.augment.recipes import PILAugment

    aug = ImageAugment.from_dict(record)
    per_image = PILAugment(aug) if aug.has_image_ops else None
    return per_image, BatchMixing(aug, n_classes) if aug.mixes else None
