"""Every exported name says why it exists: `autolearn.__all__` and each subpackage's `__all__`.

A class or function a user can import is documented where it is defined (its own docstring, not
the signature a dataclass writes for an undocumented class); constants and type aliases are not
objects that carry a docstring of their own and are left out.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import pytest

import autolearn


def _packages() -> list[str]:
    """`autolearn` and every package under it (modules that are packages: they hold an `__init__`)."""
    found = ["autolearn"]
    found += [info.name for info in pkgutil.walk_packages(autolearn.__path__, "autolearn.") if info.ispkg]
    return found


def _exported() -> list[tuple[str, str]]:
    """(package, name) of every exported class and function (constants and aliases hold no doc)."""
    out = []
    for package in _packages():
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isroutine(obj):
                out.append((package, name))
    return out


def _own_doc(obj: object) -> str:
    """The docstring the object's author wrote (a dataclass without one gets its signature: not a doc)."""
    doc = (obj.__doc__ or "").strip() if "__doc__" in dir(obj) else ""
    if inspect.isclass(obj) and dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
        return ""
    return doc


def test_every_package_has_an_all():
    """A package without `__all__` exports by accident, and the walk below would miss it
    (`testing` is not public API: test helpers only)."""
    missing = [p for p in _packages() if not hasattr(importlib.import_module(p), "__all__")
               and p not in ("autolearn.testing",)]
    assert not missing, f"packages without __all__: {missing}"


@pytest.mark.parametrize(("package", "name"), _exported(), ids=lambda v: v)
def test_exported_object_has_a_docstring(package, name):
    obj = getattr(importlib.import_module(package), name)
    assert _own_doc(obj), f"{package}.{name} has no docstring saying why it exists"
