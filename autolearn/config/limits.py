"""Limits on what a spec may ask for, where the alternative is a traceback, an exhausted driver
or a silent wrong result: found by reading each field and each input as an attacker would.

- YAML: duplicate keys (PyYAML keeps the last one silently), alias bombs (a few lines that
  expand to billions of values when the spec is copied or written out), oversized files.
- `name`: longer than a folder name may be on common file systems (with room for Ray's files).
- seeds: numpy, torch and the searchers take seeds below 2**32; larger ones fail in a trial.
- `storage`: URI schemes that no pyarrow filesystem serves, and secrets in a URI's query string
  (SAS tokens, `client_secret=`), which would be written to spec.yaml, summary.json and logs.
- tpe lists every integer of an `int` range: a range of 2**32 values exhausts the driver.

Each is a one-line `ConfigError`, raised while the spec loads: nothing starts, nothing is written.
`check_limits` runs with every `Experiment` (registered with `validation` by `config/__init__`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from autolearn.errors import ConfigError, allowed
from autolearn.values import is_uri

if TYPE_CHECKING:
    from autolearn.config.spec import Experiment

MAX_SPEC_BYTES = 1_000_000       # a spec is a page of YAML; a megabyte is a mistake or an attack
MAX_SPEC_VALUES = 100_000        # values after YAML aliases are expanded
MAX_NAME_CHARS = 128             # the folder name, with room under NAME_MAX (255 bytes) for suffixes
MAX_SEED = 2**32 - 1             # numpy's limit; torch and the searchers follow it
MAX_ENUMERATED_INTS = 1_000_000  # tpe turns an int range into a list of every value
ENUMERATING_STRATEGIES = ("tpe",)
URI_SCHEMES = ("abfs", "abfss", "file", "gcs", "gs", "hdfs", "s3", "viewfs")  # pyarrow's filesystems
SECRET_QUERY_KEYS = ("sig", "signature", "token", "secret", "password", "passwd", "pwd", "key",
                     "credential", "sas", "auth")


class _StrictLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise ConfigError("spec", f"duplicate key {key!r} at line {line}; YAML would keep only the "
                                  "last one silently: remove one of them")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, source: str) -> Any:
    """Parse a spec's YAML: no duplicate keys, no alias bomb, no oversized file."""
    if len(text.encode()) > MAX_SPEC_BYTES:
        raise ConfigError("spec", f"{source!r} is larger than {MAX_SPEC_BYTES} bytes; a spec is a page of YAML")
    loader = _StrictLoader(text)  # what yaml.safe_load does, with the strict loader
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    _check_expanded_size(data, source)
    return data


def _check_expanded_size(data: Any, source: str) -> None:
    """Count values as if every alias were copied (as `to_dict`, JSON and deep copies do)."""
    count, stack = 0, [data]
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_SPEC_VALUES:
            raise ConfigError("spec", f"{source!r} expands to more than {MAX_SPEC_VALUES} values through YAML "
                              "aliases (&anchor / *alias); write the values out")
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def check_limits(exp: Experiment) -> None:
    """The limits above on a built `Experiment` (a spec file's or one made in Python)."""
    if len(exp.name) > MAX_NAME_CHARS:
        raise ConfigError("name", f"is {len(exp.name)} characters long; at most {MAX_NAME_CHARS} make a folder "
                          "name every file system takes")
    seeds = (("search.seed", exp.search.seed), ("train.seed", getattr(exp.train, "seed", None)),
             ("task.split.random_state", exp.task.split.random_state))
    for path, seed in seeds:
        if isinstance(seed, int) and seed > MAX_SEED:
            raise ConfigError(path, f"{seed} is too big for a seed; use 0 to {MAX_SEED} (2**32 - 1)")
    check_storage_uri(exp.storage)
    if exp.search.strategy in ENUMERATING_STRATEGIES:
        for key, param in exp.space.items():
            size = getattr(param, "high", 0) - getattr(param, "low", 0) + 1 if param.kind == "int" else 0
            if size > MAX_ENUMERATED_INTS:
                raise ConfigError(f"space.{key}", f"{exp.search.strategy} lists every integer of an int range, "
                                  f"and this one has {size} (more than {MAX_ENUMERATED_INTS}); narrow it, or "
                                  "use a float range (log: true) and round it in your model")


def check_storage_uri(storage: str) -> None:
    """A scheme pyarrow can write to, and no secret in the query string (never echoed back)."""
    if not is_uri(storage):
        return
    parts = urlsplit(storage)
    if parts.scheme.lower() not in URI_SCHEMES:
        raise ConfigError("storage", f"the URI scheme {parts.scheme + '://'!r} is not supported; allowed: "
                          f"{allowed(s + '://' for s in URI_SCHEMES)}")
    for key, _ in parse_qsl(parts.query, keep_blank_values=True):
        if any(word in key.lower() for word in SECRET_QUERY_KEYS):
            raise ConfigError("storage", f"the URI's query string holds {key!r}, a secret: it would be written "
                              "to spec.yaml, summary.json and the logs; give credentials through the "
                              "environment (AWS_*, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*) instead")
