"""Model builders: `builder(input_shape, n_outputs, **params) -> nn.Module`.

The builder's keyword arguments are the spec's model fields and the names a space may search, so
adding a model is one function plus one registry line, and its signature documents it.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from autolearn.config.plugins import accepted_kwargs, check_kwargs, resolve
from autolearn.errors import ConfigError, allowed

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
    "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "selu": nn.SELU, "silu": nn.SiLU,
}


def _activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ConfigError("model.activation", f"unknown activation {name!r}; allowed: {allowed(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def mlp(input_shape: tuple[int, ...], n_outputs: int, hidden_units: int = 64, depth: int = 2,
        activation: str = "relu", dropout: float = 0.0) -> nn.Module:
    """A fully connected network: `depth` hidden layers of `hidden_units` each (depth 0 = logistic)."""
    if int(hidden_units) < 1 or int(depth) < 0:
        raise ConfigError("model", f"need hidden_units >= 1 and depth >= 0 "
                          f"(hidden_units={hidden_units}, depth={depth})")
    if not 0.0 <= float(dropout) < 1.0:
        raise ConfigError("model.dropout", f"must be in [0, 1), got {dropout}")
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(input_shape)
    for _ in range(int(depth)):
        layers += [nn.Linear(width, int(hidden_units)), _activation(activation)]
        if dropout:
            layers.append(nn.Dropout(float(dropout)))
        width = int(hidden_units)
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


def cnn(input_shape: tuple[int, ...], n_outputs: int, channels: int = 16, hidden_units: int = 64,
        activation: str = "relu", dropout: float = 0.0) -> nn.Module:
    """A small two-block CNN for images such as digits (1×8×8); flat 64-feature rows are reshaped."""
    shape: tuple[int, ...]
    if len(input_shape) == 1:
        side = int(round(math.sqrt(input_shape[0])))
        if side * side != input_shape[0]:
            raise ConfigError("model.name", f"cnn needs square images; got {input_shape[0]} flat features")
        shape = (1, side, side)
    elif len(input_shape) == 3:
        shape = tuple(input_shape)
    else:
        raise ConfigError("model.name", f"cnn needs images (C×H×W) or square flat rows, got shape {input_shape}")
    c, h, w = shape
    channels = int(channels)
    body = nn.Sequential(
        nn.Unflatten(1, shape) if len(input_shape) == 1 else nn.Identity(),
        nn.Conv2d(c, channels, 3, padding=1), _activation(activation), nn.MaxPool2d(2),
        nn.Conv2d(channels, channels * 2, 3, padding=1), _activation(activation), nn.MaxPool2d(2),
        nn.Flatten(),
    )
    with torch.no_grad():
        flat = body(torch.zeros(1, *input_shape)).shape[1]
    head = [nn.Linear(flat, int(hidden_units)), _activation(activation)]
    if dropout:
        head.append(nn.Dropout(float(dropout)))
    return nn.Sequential(body, *head, nn.Linear(int(hidden_units), n_outputs))


MODELS: dict[str, Callable[..., nn.Module]] = {"mlp": mlp, "cnn": cnn}
# What the data tells a builder, passed by name to builders that take it.
_DATA_ARGS = ("input_shape", "n_outputs", "n_features")


def model_builder(name: Any, params: dict[str, Any], path: str = "model") -> Callable[..., nn.Module]:
    """Resolve a builder and check the spec's model fields against its signature."""
    builder = resolve(name, MODELS, f"{path}.name", "model")
    clash = [k for k in params if k in _DATA_ARGS]
    if clash:
        raise ConfigError(f"{path}.{clash[0]}", "is taken from the data; remove it from the spec")
    check_kwargs(builder, params, path, skip=_DATA_ARGS, owner=f"model {name!r}" if isinstance(name, str) else None)
    return builder


def model_param_names(name: Any) -> list[str] | None:
    """The model fields a space may search (None: the builder takes **kwargs, so any name)."""
    names = accepted_kwargs(resolve(name, MODELS, "model.name", "model"))
    return None if names is None else [n for n in names if n not in _DATA_ARGS]


def build_model(name: Any, params: dict[str, Any], input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
    """Build with the spec's fields plus whichever of input_shape/n_outputs/n_features it takes."""
    builder = model_builder(name, params)
    data = {"input_shape": tuple(input_shape), "n_outputs": n_outputs, "n_features": math.prod(input_shape)}
    takes = accepted_kwargs(builder)
    extra = {k: v for k, v in data.items() if (k in takes if takes is not None else k != "n_features")}
    model = builder(**extra, **params)
    if not isinstance(model, nn.Module):
        raise ConfigError("model.name", f"the model builder returned {type(model).__name__}, not a torch.nn.Module")
    return model
