"""The ``reprlearn`` command line: one module per command, each registering on ``app``.

Known user errors (bad input, missing files, mismatched stores, unknown encoders, weights
not available offline) surface as one clear message and exit code 2, never a bare
traceback; set ``REPRLEARN_DEBUG=1`` to see the traceback.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

from reprlearn.cli.app import app, fail
from reprlearn.errors import ReprlearnError


def _register_commands() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "app" and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def main() -> None:
    """Entry point of the ``reprlearn`` console script."""
    _register_commands()
    try:
        app()
    except (ReprlearnError, ValueError, OSError, ImportError) as e:
        # user-facing failures (bad input, unknown encoder, weights not available offline,
        # missing optional library): one message, no traceback. REPRLEARN_DEBUG=1 re-raises.
        if os.environ.get("REPRLEARN_DEBUG"):
            raise
        raise SystemExit(fail(str(e)).exit_code) from None


__all__ = ["app", "main"]
