"""Check pretraining options before any work: positive sizes and method options by type.

:func:`check_method_options` reads the method constructor's signature, so ``--set`` keys
and value types are validated from one source (the method itself) and the error names the
option, the expected type and the valid keys.
"""

from __future__ import annotations

import inspect
import math
import types
import typing
from typing import Any

from reprlearn.errors import ReprlearnError

# constructor arguments that pretrain fills in itself
_BUILT_IN = ("self", "backbone", "feat_dim", "input_shape")
_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a float", str: "a string"}


def check_at_least(name: str, value: float | None, low: float, *, strict: bool = False) -> None:
    """Refuse ``value < low`` (or ``value <= low`` when ``strict``); ``None`` passes (unset).

    ``name`` is the CLI option (``--epochs``), shown in the message.

    Raises:
        ReprlearnError: names the option, the bound and the value given.
    """
    if value is None:
        return
    bad = value <= low if strict else value < low
    if bad or value != value:  # NaN
        bound = f"greater than {low:g}" if strict else f"at least {low:g}"
        raise ReprlearnError(f"{name} must be {bound}, got {value!r}")


def method_option_types(cls: type) -> dict[str, Any]:
    """The keyword options of a method constructor and their type hints (``{name: hint}``)."""
    hints = typing.get_type_hints(cls.__init__)
    names = [p for p in inspect.signature(cls.__init__).parameters if p not in _BUILT_IN]
    return {name: hints.get(name, Any) for name in names}


def _accepts(hint: Any, value: Any) -> tuple[bool, Any]:
    """Whether ``value`` (parsed from JSON) fits ``hint``; ints are widened to float."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if union else (hint,)
    if hint is Any:
        return True, value
    if value is None:
        return type(None) in options, None
    for t in options:
        if t is bool and isinstance(value, bool):
            return True, value
        if t is int and isinstance(value, int) and not isinstance(value, bool):
            return True, value
        if t is float and isinstance(value, int | float) and not isinstance(value, bool):
            return math.isfinite(value), float(value)
        if t is str and isinstance(value, str):
            return True, value
    return False, value


def _type_name(hint: Any) -> str:
    options = [t for t in typing.get_args(hint) or (hint,) if t is not type(None)]
    return " or ".join(_TYPE_NAMES.get(t, getattr(t, "__name__", str(t))) for t in options)


def check_method_options(
    cls: type, options: dict[str, Any] | None, label: str = "--set"
) -> dict[str, Any]:
    """Validate ``options`` against the constructor of method class ``cls``.

    Args:
        cls: a registered :class:`~reprlearn.training.methods.Method` subclass.
        options: ``{name: value}`` as parsed from ``--set KEY=VALUE`` (JSON values).
        label: how the options are named in messages (``--set`` on the CLI).

    Returns:
        The options with ints widened to float where the method expects a float.

    Raises:
        ReprlearnError: an unknown key (lists the valid ones) or a value of the wrong type
            (``--set temperature expects a float, got 'abc'``).
    """
    types_ = method_option_types(cls)
    checked: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if key not in types_:
            raise ReprlearnError(
                f"{label} {key}: method {cls.name!r} has no option {key!r}; its options are "
                f"{', '.join(types_) or '(none)'}"
            )
        ok, checked[key] = _accepts(types_[key], value)
        if not ok:
            raise ReprlearnError(f"{label} {key} expects {_type_name(types_[key])}, got {value!r}")
    return checked
