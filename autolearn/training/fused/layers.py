"""What a solo MLP is made of, read from the module itself, and its stacked, padded form.

The fused core never builds a model: it reads the solo `nn.Sequential` that the member would train
alone (Flatten, then Linear/activation/Dropout blocks, then a Linear head) and copies its weights.
So a member's initial weights are the solo draw by construction, whatever built the model.

Only torch and the standard library here: `benchmarks/gpu_fused.py` loads this package by file path
on machines without autolearn.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


class NotFusable(ValueError):
    """The model is not a plain MLP of Linear layers, elementwise activations and dropout."""


@dataclass(frozen=True)
class Hidden:
    """One hidden block: its Linear's output width, the activation after it, its dropout."""

    width: int
    activation: nn.Module | None
    dropout: float


@dataclass(frozen=True)
class MLPShape:
    """A solo MLP as the fused core sees it: input width, hidden blocks, output width."""

    n_in: int
    hidden: tuple[Hidden, ...]
    n_out: int

    @property
    def widths(self) -> list[int]:
        """Every Linear's output width, head included."""
        return [h.width for h in self.hidden] + [self.n_out]

    def family(self) -> tuple[object, ...]:
        """Members fuse only when this matches: same depth, activations and in/out sizes."""
        return (self.n_in, self.n_out, tuple(repr(h.activation) for h in self.hidden))


_ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.ELU, nn.LeakyReLU, nn.SELU, nn.SiLU)


def read_mlp(model: nn.Module) -> MLPShape:
    """Parse a solo model; raises NotFusable with the reason when it is not a plain MLP."""
    if not isinstance(model, nn.Sequential):
        raise NotFusable(f"the model is a {type(model).__name__}, not an nn.Sequential MLP")
    linears: list[nn.Linear] = []
    acts: list[nn.Module | None] = []
    drops: list[float] = []
    for i, module in enumerate(model):
        if isinstance(module, nn.Flatten) and i == 0 and module.start_dim == 1 and module.end_dim == -1:
            continue
        if isinstance(module, nn.Linear):
            if module.bias is None:
                raise NotFusable("a Linear layer without bias")
            linears.append(module)
            acts.append(None)
            drops.append(0.0)
        elif isinstance(module, _ELEMENTWISE) and linears and acts[-1] is None and not drops[-1]:
            acts[-1] = module
        elif isinstance(module, nn.Dropout) and linears and not drops[-1] and not module.inplace:
            drops[-1] = float(module.p)
        else:
            raise NotFusable(f"layer {i} ({type(module).__name__}) is not one the fused MLP stacks")
    if not linears or acts[-1] is not None or drops[-1]:
        raise NotFusable("the model does not end in a Linear head")
    hidden = tuple(Hidden(lin.out_features, act, p) for lin, act, p in zip(linears[:-1], acts[:-1], drops[:-1]))
    return MLPShape(linears[0].in_features, hidden, linears[-1].out_features)


def linears(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def zero_is_fixed_point(activation: nn.Module | None) -> bool:
    """act(0) == 0: padded units then stay exactly zero without masking their gradients."""
    if activation is None:
        return True
    return bool(activation(torch.zeros(1)).abs().max() == 0)


class Layout:
    """Where each padded layer's weight and bias lives in a bucket's flat [K, P] buffers.

    One flat buffer per bucket (parameters, gradients, each optimizer state) makes a vectorised
    optimizer step a handful of ops on [K, P] instead of a handful per layer.
    """

    def __init__(self, n_in: int, widths: list[int]) -> None:
        self.dims: list[tuple[int, int]] = []  # (out, in) of each padded Linear, as torch names them
        self.offsets: list[tuple[int, int]] = []  # (weight offset, bias offset)
        fan_in, offset = n_in, 0
        for out in widths:
            self.dims.append((out, fan_in))
            self.offsets.append((offset, offset + out * fan_in))
            offset += out * fan_in + out
            fan_in = out
        self.size = offset

    def views(self, flat: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """[K, in, out] weight (the solo weight transposed) and [K, out] bias views into a [K, P] buffer.

        Transposed so that the forward is a plain `baddbmm(b, h, w)` and autograd hands back the
        weight gradient in the buffer's own layout (a transposed one is accumulated through strided
        copies: 32 adam members of width 256 went from 0.9x to 1.1x the solo speed with this).
        """
        out = []
        for (o, i), (w, b) in zip(self.dims, self.offsets):
            out.append((flat[:, w:w + o * i].view(-1, i, o), flat[:, b:b + o]))
        return out

    def member_slices(self, shape: MLPShape) -> list[tuple[slice, slice, int]]:
        """For each solo parameter (weight, bias, ... in `parameters()` order): the padded block it fills."""
        fan_in, out = shape.n_in, []
        for layer, real_out in enumerate(shape.widths):
            out.append((slice(0, real_out), slice(0, fan_in), layer))
            fan_in = real_out
        return out

    def scatter(self, flat_row: torch.Tensor, shape: MLPShape, tensors: list[torch.Tensor]) -> None:
        """Write a member's solo tensors (weight, bias, weight, bias, ...) into its padded row."""
        views = self.views(flat_row.unsqueeze(0))
        for (rows, cols, layer), (w, b) in zip(self.member_slices(shape), zip(tensors[::2], tensors[1::2])):
            views[layer][0][0, cols, rows].copy_(w.t())
            views[layer][1][0, rows].copy_(b)

    def gather(self, flat_row: torch.Tensor, shape: MLPShape) -> list[torch.Tensor]:
        """A member's solo tensors (weight, bias, ...) cut out of its padded row (copies, on the CPU)."""
        views = self.views(flat_row.unsqueeze(0))
        out: list[torch.Tensor] = []
        for rows, cols, layer in self.member_slices(shape):
            for value in (views[layer][0][0, cols, rows].t(), views[layer][1][0, rows]):
                out.append(value.detach().to("cpu").clone(memory_format=torch.contiguous_format))
        return out

    def mask_row(self, shape: MLPShape) -> torch.Tensor:
        """1 where a member has a real parameter, 0 in its padding."""
        row = torch.zeros(self.size)
        self.scatter(row, shape, [torch.ones_like(p) for p in _param_shapes(shape)])
        return row


def _param_shapes(shape: MLPShape) -> list[torch.Tensor]:
    fan_in, out = shape.n_in, []
    for width in shape.widths:
        out += [torch.empty(width, fan_in), torch.empty(width)]
        fan_in = width
    return out
