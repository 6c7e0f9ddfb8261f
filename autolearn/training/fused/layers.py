"""What a solo model is made of, read from the module itself, and its stacked, padded form.

The fused core never builds a model: it reads the solo `nn.Sequential` that the member would train
alone and copies its weights, so a member's initial weights are the solo draw by construction. It
stacks what the built-in builders make: an MLP (Flatten, Linear/activation/Dropout blocks, a Linear
head) and the CNN (3x3 same-padding Conv2d/activation/MaxPool2d(2) blocks, Flatten, then an MLP).

Only torch and the standard library here: `benchmarks/gpu_fused.py` loads this package by file path
on machines without autolearn.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn


class NotFusable(ValueError):
    """The model is not one the fused core stacks (plain MLP or the built-in CNN's blocks)."""


@dataclass(frozen=True)
class Hidden:
    """One hidden block: its output width (units or channels), activation, dropout, conv and pool."""

    width: int
    activation: nn.Module | None
    dropout: float
    conv: bool = False  # a 3x3 Conv2d with padding 1; width = its output channels
    pool: bool = False  # followed by MaxPool2d(2)


@dataclass(frozen=True)
class NetShape:
    """A solo model as the fused core sees it: flat input size, hidden blocks, outputs, image shape."""

    n_in: int
    hidden: tuple[Hidden, ...]
    n_out: int
    image: tuple[int, int, int] | None = None  # (C, H, W) the first conv sees

    @property
    def widths(self) -> list[int]:
        """Every layer's output width, head included."""
        return [h.width for h in self.hidden] + [self.n_out]

    def fan_ins(self, widths: list[int]) -> list[int]:
        """Each layer's input size for these widths (a Linear after convs: channels x positions)."""
        out, size = [], self.image[0] if self.image else self.n_in
        rows, cols = self.image[1:] if self.image else (1, 1)
        for h, width in zip(self.hidden + (None,), widths):
            if h is not None and h.conv:
                out.append(size)
                rows, cols = (rows // 2, cols // 2) if h.pool else (rows, cols)
            else:
                out.append(size * rows * cols)
                rows = cols = 1
            size = width
        return out

    def spatial(self) -> list[tuple[int, int]]:
        """The (H, W) each conv layer works on."""
        out, (rows, cols) = [], self.image[1:] if self.image else (1, 1)
        for h in self.hidden:
            if h.conv:
                out.append((rows, cols))
                rows, cols = (rows // 2, cols // 2) if h.pool else (rows, cols)
        return out

    def family(self) -> tuple[object, ...]:
        """Members fuse only when this matches: same blocks, activations, input and output sizes."""
        blocks = tuple((repr(h.activation), h.conv, h.pool) for h in self.hidden)
        return (self.n_in, self.n_out, self.image, blocks)


_ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.ELU, nn.LeakyReLU, nn.SELU, nn.SiLU)


def _leaves(model: nn.Module) -> Iterator[nn.Module]:
    for module in model.children():
        if isinstance(module, nn.Sequential):
            yield from _leaves(module)
        else:
            yield module


def _is_same_conv(m: nn.Conv2d) -> bool:
    return (m.kernel_size == (3, 3) and m.stride == (1, 1) and m.padding == (1, 1) and m.dilation == (1, 1)
            and m.groups == 1 and m.bias is not None and m.padding_mode == "zeros")


def _is_halving_pool(m: nn.MaxPool2d) -> bool:
    return (m.kernel_size in (2, (2, 2)) and m.stride in (2, (2, 2)) and m.padding in (0, (0, 0))
            and m.dilation in (1, (1, 1)) and not m.ceil_mode and not m.return_indices)


def read_net(model: nn.Module, input_shape: tuple[int, ...]) -> NetShape:
    """Parse a solo model; raises NotFusable with the reason when the core cannot stack it."""
    if not isinstance(model, nn.Sequential):
        raise NotFusable(f"the model is a {type(model).__name__}, not an nn.Sequential")
    image = tuple(input_shape) if len(input_shape) == 3 else None
    blocks: list[dict] = []
    for i, m in enumerate(_leaves(model)):
        last = blocks[-1] if blocks else None
        if i == 0 and isinstance(m, nn.Unflatten) and m.dim == 1 and len(m.unflattened_size) == 3:
            image = tuple(int(d) for d in m.unflattened_size)
        elif isinstance(m, nn.Identity) or (isinstance(m, nn.Flatten) and m.start_dim == 1 and m.end_dim == -1):
            continue
        elif isinstance(m, nn.Conv2d) and _is_same_conv(m) and image and all(b["conv"] for b in blocks):
            blocks.append({"width": m.out_channels, "act": None, "drop": 0.0, "conv": True, "pool": False})
        elif isinstance(m, nn.Linear) and m.bias is not None:
            blocks.append({"width": m.out_features, "act": None, "drop": 0.0, "conv": False, "pool": False})
        elif isinstance(m, _ELEMENTWISE) and last and last["act"] is None and not last["drop"] and not last["pool"]:
            last["act"] = m
        elif isinstance(m, nn.MaxPool2d) and _is_halving_pool(m) and last and last["conv"] and not last["pool"]:
            last["pool"] = True
        elif isinstance(m, nn.Dropout) and not m.inplace and last and not last["conv"] and not last["drop"]:
            last["drop"] = float(m.p)
        else:
            raise NotFusable(f"layer {i} ({type(m).__name__}) is not one the fused core stacks")
    if not blocks or blocks[-1]["conv"] or blocks[-1]["act"] is not None or blocks[-1]["drop"]:
        raise NotFusable("the model does not end in a Linear head")
    hidden = tuple(Hidden(b["width"], b["act"], b["drop"], b["conv"], b["pool"]) for b in blocks[:-1])
    shape = NetShape(math.prod(input_shape), hidden, blocks[-1]["width"], image)  # type: ignore[arg-type]
    expected = shape.fan_ins(shape.widths)
    got = [m.in_channels if isinstance(m, nn.Conv2d) else m.in_features
           for m in _leaves(model) if isinstance(m, (nn.Conv2d, nn.Linear))]
    if expected != got:
        raise NotFusable(f"layer input sizes {got} do not chain from the input {tuple(input_shape)}")
    return shape


def zero_is_fixed_point(activation: nn.Module | None) -> bool:
    """act(0) == 0: padded units then stay exactly zero without masking their gradients."""
    if activation is None:
        return True
    return bool(activation(torch.zeros(1)).abs().max() == 0)


class Layout:
    """Where each padded layer's weight and bias lives in a bucket's flat [K, P] buffers.

    One flat buffer per bucket (parameters, gradients, each optimizer state) makes a vectorised
    optimizer step a handful of ops on [K, P] instead of a handful per layer. A Linear weight is
    kept transposed, [K, in, out], so that the forward is a plain `baddbmm(b, h, w)` and autograd
    hands back its gradient in the buffer's own layout (a transposed one is accumulated through
    strided copies: 32 adam members of width 256 went from 0.9x to 1.1x the solo speed with this).
    A conv weight is kept as torch has it, [K, out, in, 3, 3].
    """

    def __init__(self, shape: NetShape, widths: list[int]) -> None:
        self.shape, self.widths = shape, widths
        self.convs = [h.conv for h in shape.hidden] + [False]
        self.dims = list(zip(widths, shape.fan_ins(widths)))  # (out, in) of each padded layer
        self.offsets: list[tuple[int, int]] = []  # (weight offset, bias offset)
        offset = 0
        for (o, i), conv in zip(self.dims, self.convs):
            weight = o * i * (9 if conv else 1)
            self.offsets.append((offset, offset + weight))
            offset += weight + o
        self.size = offset

    def views(self, flat: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each layer's weight and [K, out] bias, as views into a [K, P] buffer."""
        out = []
        for (o, i), (w, b), conv in zip(self.dims, self.offsets, self.convs):
            weight = flat[:, w:w + o * i * 9].view(-1, o, i, 3, 3) if conv else flat[:, w:w + o * i].view(-1, i, o)
            out.append((weight, flat[:, b:b + o]))
        return out

    def _blocks(self, flat_row: torch.Tensor, shape: NetShape) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """A member's real (unpadded) blocks in its row, each in the solo parameter's orientation."""
        out = []
        for (w, b), o, i, conv in zip(self.views(flat_row.unsqueeze(0)), shape.widths,
                                      shape.fan_ins(shape.widths), self.convs):
            out.append((w[0, :o, :i] if conv else w[0, :i, :o].t(), b[0, :o]))
        return out

    def scatter(self, flat_row: torch.Tensor, shape: NetShape, tensors: list[torch.Tensor]) -> None:
        """Write a member's solo tensors (weight, bias, weight, bias, ...) into its padded row."""
        for (w, b), (sw, sb) in zip(self._blocks(flat_row, shape), zip(tensors[::2], tensors[1::2])):
            w.copy_(sw)
            b.copy_(sb)

    def gather(self, flat_row: torch.Tensor, shape: NetShape) -> list[torch.Tensor]:
        """A member's solo tensors (weight, bias, ...) cut out of its padded row (copies, on the CPU)."""
        return [value.detach().to("cpu").clone(memory_format=torch.contiguous_format)
                for block in self._blocks(flat_row, shape) for value in block]

    def mask_row(self, shape: NetShape) -> torch.Tensor:
        """1 where a member has a real parameter, 0 in its padding."""
        row = torch.zeros(self.size)
        for w, b in self._blocks(row, shape):
            w.fill_(1.0)
            b.fill_(1.0)
        return row
