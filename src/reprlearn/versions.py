"""Library versions recorded in manifests and results (reproducibility)."""

from __future__ import annotations

import platform
from importlib import metadata

_LIBRARIES = (
    "reprlearn",
    "torch",
    "numpy",
    "scikit-learn",
    "datasets",
    "pyarrow",
    "transformers",
    "sentence-transformers",
    "timm",
    "open_clip_torch",
)


def library_versions() -> dict[str, str]:
    """``{"python": ..., "torch": ..., ...}`` for the libraries that are installed."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
