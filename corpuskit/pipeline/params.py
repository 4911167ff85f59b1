"""Check plugin parameters from a config against the type hints of the plugin's __init__."""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any, Literal, Union

_MISSING = inspect.Parameter.empty


class ParamError(ValueError):
    """A parameter that is unknown, missing or of the wrong type; the message names it."""


def signature_params(cls: type) -> dict[str, tuple[Any, Any]]:
    """{name: (type hint, default)} of `cls.__init__`'s keyword parameters."""
    hints = typing.get_type_hints(cls.__init__)
    params = {}
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        params[name] = (hints.get(name, Any), param.default)
    return params


def check_params(cls: type, given: dict[str, Any], where: str) -> dict[str, Any]:
    """Return `given` checked against `cls`'s parameters (ints accepted where floats are).

    Raises ParamError naming `where`, the parameter and the expected type.
    """
    if not isinstance(given, dict):
        raise ParamError(f"{where}: parameters must be a mapping, got {type(given).__name__}")
    accepted = signature_params(cls)
    for key in given:
        if key not in accepted:
            raise ParamError(f"{where}: unknown parameter {key!r}; accepted: {', '.join(accepted) or 'none'}")
    checked = {}
    for name, (hint, default) in accepted.items():
        if name not in given:
            if default is _MISSING:
                raise ParamError(f"{where}: missing required parameter {name!r} ({describe(hint)})")
            continue
        value = given[name]
        if not matches(value, hint):
            raise ParamError(f"{where}: parameter {name!r} must be {describe(hint)}, got {value!r} ({type(value).__name__})")
        checked[name] = float(value) if hint is float and isinstance(value, int) and not isinstance(value, bool) else value
    return checked


def matches(value: Any, hint: Any) -> bool:
    """Does a YAML value fit a type hint? Covers the hints plugin parameters use."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return any(matches(value, arg) for arg in args)
    if origin is Literal:
        return value in args
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (list, tuple, typing.Sequence) or hint in (list, tuple):
        return isinstance(value, list) and (not args or all(matches(v, args[0]) for v in value))
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            return False
        return not args or all(matches(k, args[0]) and matches(v, args[1]) for k, v in value.items())
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def describe(hint: Any) -> str:
    """Readable form of a type hint for error messages."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if hint is type(None):
        return "null"
    if origin in (list, tuple):
        return f"a list of {describe(args[0])}" if args else "a list"
    if isinstance(hint, type):
        return {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false"}.get(hint.__name__, hint.__name__)
    return str(hint)
