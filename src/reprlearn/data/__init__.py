"""Data sources -> ``datasets.Dataset`` with an ``image`` or ``text`` column (+ ``label``)."""

from reprlearn.data.load import FORMATS, load_dataset, source_spec

__all__ = ["FORMATS", "load_dataset", "source_spec"]
