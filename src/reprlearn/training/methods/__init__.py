"""Pretraining methods, one module each; ``@register_method`` adds one to :data:`METHODS`.

Every module in this package is imported by :func:`get_method`, so a new method is
just a new file here.
"""

from __future__ import annotations

import importlib
import pkgutil

from reprlearn.training.methods.base import Method

METHODS: dict[str, type[Method]] = {}


def register_method(name: str):
    """Class decorator: register a :class:`Method` subclass under ``name``."""

    def wrap(cls: type[Method]) -> type[Method]:
        cls.name = name
        METHODS[name] = cls
        return cls

    return wrap


def _import_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")


def get_method(name: str) -> type[Method]:
    """The method class registered as ``name``.

    Raises:
        ValueError: unknown method, listing the known ones.
    """
    _import_all()
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; choose one of {', '.join(sorted(METHODS))}")
    return METHODS[name]


__all__ = ["METHODS", "Method", "get_method", "register_method"]
