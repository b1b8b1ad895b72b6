"""Errors a user can fix. The CLI prints their message (which names the file, row and
fix) without a traceback."""


class ReprlearnError(Exception):
    """Base class of reprlearn's user-facing errors."""


class DataError(ReprlearnError, ValueError):
    """Bad input data: names the file/row and how to fix it."""


class StoreError(ReprlearnError, ValueError):
    """An embedding store that does not match the request (other encoder or source)."""
