"""Readers of spec fields that every section shares: mappings, known keys, numbers, plug-in names.

Each raises `ConfigError` with the field's path, so a section's `from_dict` is a list of fields
and their rules, and every message reads the same.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Literal

from autolearn.config.space import as_number
from autolearn.errors import ConfigError, allowed

Mode = Literal["min", "max"]
# A plug-in as the spec names it: a registry name or an import path (`pkg.mod:fn`) in YAML, or the
# object itself in Python.
Named = str | Callable[..., Any]


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(path, f"expected a mapping, got {value!r}")
    return {str(k): v for k, v in value.items()}


def _no_unknown(data: Mapping[str, Any], known: set[str], path: str) -> None:
    for key in data:
        if key not in known:
            raise ConfigError(f"{path}.{key}" if path else key, f"unknown key; allowed: {allowed(known)}")


def _fields_of(cls: type, data: Any, path: str) -> dict[str, Any]:
    """A section's YAML mapping (None: empty), each key one of the section's fields."""
    out = _mapping(data, path)
    _no_unknown(out, {f.name for f in dataclasses.fields(cls)}, path)
    return out


def _int(value: Any, path: str, low: int | None = None) -> int:
    out = int(as_number(value, path, integer=True))
    if low is not None and out < low:
        raise ConfigError(path, f"must be >= {low}, got {out}")
    return out


def _float(value: Any, path: str, low: float | None = None, high: float | None = None,
           low_open: bool = False) -> float:
    out = float(as_number(value, path))
    if low is not None and (out < low or (low_open and out == low)):
        raise ConfigError(path, f"must be {'>' if low_open else '>='} {low}, got {out}")
    if high is not None and out > high:
        raise ConfigError(path, f"must be <= {high}, got {out}")
    return out


def _name(value: Any, path: str) -> Named:
    if callable(value) or (isinstance(value, str) and value):
        return value
    raise ConfigError(path, f"expected a name, an import path or a callable, got {value!r}")


def _split_named(data: Any, path: str, key: str = "name", default: Any = None) -> tuple[Named, dict[str, Any]]:
    """`{name: x, a: 1}` → (x, {a: 1}): a named plugin with its options inline."""
    if isinstance(data, str) or callable(data):
        return data, {}
    data = _mapping(data, path)
    name = data.pop(key, default)
    if name is None:
        raise ConfigError(f"{path}.{key}", "is required")
    return _name(name, f"{path}.{key}"), data


def _export_name(name: Named) -> str:
    """A plug-in as YAML can hold it: a callable becomes its `module:qualname` import path."""
    if callable(name):
        return f"{getattr(name, '__module__', '?')}:{getattr(name, '__qualname__', repr(name))}"
    return name
