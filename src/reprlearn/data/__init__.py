"""Data sources -> ``datasets.Dataset`` with an ``image`` or ``text`` column (+ ``label``)."""

from reprlearn.data.labels import align_classes, require_labels
from reprlearn.data.load import FORMATS, load_dataset, source_columns, source_spec

__all__ = [
    "FORMATS",
    "align_classes",
    "load_dataset",
    "require_labels",
    "source_columns",
    "source_spec",
]
