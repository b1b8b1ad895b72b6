"""The ``reprlearn`` command line: one module per command, each registering on ``app``.

Known user errors (bad input, missing files, mismatched stores, unknown encoders, weights
not available offline) surface as one clear message and exit code 2, never a bare
traceback; set ``REPRLEARN_DEBUG=1`` to see the traceback. Ctrl-C in any command prints
"interrupted; rerun the same command to resume" and exits with 130 (128 + SIGINT), no
traceback: stores, runs and reports resume from what was written atomically.
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


INTERRUPTED = "interrupted; rerun the same command to resume"
EXIT_INTERRUPTED = 130


def _interrupted(error: BaseException | None) -> bool:
    """True when ``error`` is, or was raised while handling, a KeyboardInterrupt (typer
    turns Ctrl-C into ``Exit(130)``; Lightning into ``SystemExit(1)``)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def main() -> None:
    """Entry point of the ``reprlearn`` console script.

    Raises:
        SystemExit: 0 on success, 2 on a user error (one message line), 130 on Ctrl-C.
    """
    try:
        _register_commands()
        app()
    except (KeyboardInterrupt, SystemExit) as e:
        if not _interrupted(e):
            raise
        if os.environ.get("REPRLEARN_DEBUG"):
            raise
        raise SystemExit(fail(INTERRUPTED, EXIT_INTERRUPTED).exit_code) from None
    except (ReprlearnError, ValueError, OSError, ImportError) as e:
        # user-facing failures (bad input, unknown encoder, weights not available offline,
        # missing optional library): one message, no traceback. REPRLEARN_DEBUG=1 re-raises.
        if os.environ.get("REPRLEARN_DEBUG"):
            raise
        raise SystemExit(fail(str(e)).exit_code) from None


__all__ = ["app", "main"]
