"""User code by import path (`mypkg.models:build`) and keyword checks against a function's signature.

Registries (name → small factory) and user callables are validated the same way: the factory's own
signature says which keys a spec section may hold, so a typo fails at load time instead of being
silently dropped (a Ray Tune habit we avoid).
"""
from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from autolearn.errors import ConfigError, allowed


def import_object(path: str, field: str) -> Callable[..., Any]:
    """Resolve `package.module:attribute` (or `package.module.attribute`) to the object."""
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ConfigError(field, f"{path!r} is not an import path; write it as 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ConfigError(field, f"cannot import module {module_name!r} for {path!r} ({err}); "
                          "check the spelling and that it is on PYTHONPATH") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(field, f"module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ConfigError(field, f"{path!r} is not callable")
    return obj


def resolve(name: Any, registry: Mapping[str, Callable[..., Any]], field: str, what: str) -> Callable[..., Any]:
    """A registry name, an import path, or a callable → the callable."""
    if callable(name):
        return name
    if not isinstance(name, str) or not name:
        raise ConfigError(field, f"expected a {what} name or import path, got {name!r}")
    if name in registry:
        return registry[name]
    if ":" in name or "." in name:
        return import_object(name, field)
    raise ConfigError(field, f"unknown {what} {name!r}; allowed: {allowed(registry)}, "
                      "or an import path like 'mypkg.module:function'")


def check_kwargs(fn: Callable[..., Any], params: Mapping[str, Any], field: str,
                 skip: Iterable[str] = (), owner: str | None = None) -> None:
    """Raise when `params` holds a key `fn` does not take (unless `fn` takes **kwargs).

    `owner` is how messages name `fn` (e.g. "scheduler 'asha'"); by default its `__name__`.
    """
    owner = owner or str(getattr(fn, "__name__", fn))
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    accepts = accepted_kwargs(fn)
    if accepts is None:
        return
    skipped = set(skip)
    for key in params:
        if key not in accepts:
            options = sorted(set(accepts) - skipped)
            raise ConfigError(f"{field}.{key}", f"unknown key for {owner}; "
                              f"allowed: {allowed(options)}")
    missing = [n for n, p in sig.parameters.items()
               if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               and n not in params and n not in skipped]
    if missing:
        raise ConfigError(f"{field}.{missing[0]}", f"required by {owner} but not given")


def accepted_kwargs(fn: Callable[..., Any]) -> list[str] | None:
    """Names `fn` takes by keyword, or None when it takes **kwargs (anything goes)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    names = []
    for name, p in sig.parameters.items():
        if p.kind is p.VAR_KEYWORD:
            return None
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            names.append(name)
    return names


def ship_by_value(obj: Any) -> None:
    """Make Ray send a user's function with its code, not as `module:name` to import on the worker.

    A model, loader or trainable defined in the user's own script or an uninstalled module would
    otherwise fail on workers (and on every other node of a cluster) with ModuleNotFoundError.
    Installed packages (site-packages) and autolearn itself are left to import normally.
    """
    import sys

    from ray import cloudpickle  # Ray serialises with its own vendored copy

    module_name = getattr(obj, "__module__", None) or ""
    module = sys.modules.get(module_name)
    if module is None or module_name == "__main__" or module_name.split(".")[0] in ("autolearn", "ray", "torch"):
        return
    location = getattr(module, "__file__", "") or ""
    if "site-packages" in location or "dist-packages" in location or not location:
        return
    cloudpickle.register_pickle_by_value(module)
