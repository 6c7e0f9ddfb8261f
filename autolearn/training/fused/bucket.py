"""One bucket: members of one MLP family trained as one batched model, each exactly as alone.

Layout: every parameter of every member lives in one flat [K, P] buffer (its gradient and each
optimizer state too), padded to the bucket's widest member. Padded units start at zero and stay
there: their gradients are zero whenever act(0) == 0 and are masked otherwise.

Batches: members may differ in batch size when every size is a multiple of the smallest one, the
bucket's *tick*. Each tick every member sees its next `tick` rows of its own permutation; a member
steps when its own batch is complete (gradients accumulate across the ticks of a batch, weighted by
1/len(batch) exactly as the solo mean). So no row is padded and no member waits for another.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from .layers import Layout, NetShape, zero_is_fixed_point
from .optimizers import COUNTS_STEPS, RULES, STEP_COLUMNS, Hyper, Run, member_state_names, needed_state


@dataclass
class Member:
    """A member's solo objects (the source of truth between rebuilds) and its bookkeeping."""

    key: str
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    shape: NetShape
    hyper: Hyper
    batch_size: int
    generator: torch.Generator  # data order, exactly Fitter's
    dropout_generator: torch.Generator | None  # the global RNG state after the solo build
    steps: int = 0


@dataclass(frozen=True)
class Data:
    x_train: torch.Tensor  # [n, features] (images flattened), on the device
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    binary: bool


class Bucket:
    def __init__(self, members: list[Member], data: Data, device: torch.device) -> None:
        self.members = sorted(members, key=lambda m: (m.hyper.kind, m.batch_size))
        self.data, self.device = data, device
        ms = self.members
        shape0 = ms[0].shape
        widths = [max(w) for w in zip(*(m.shape.widths for m in ms))]
        self.layout = Layout(shape0, widths)
        self.hidden = shape0.hidden
        self.spatial = shape0.spatial()
        self.image = shape0.image
        k, size = len(ms), self.layout.size
        self.params = torch.zeros(k, size, device=device)
        self.grads = torch.zeros(k, size, device=device)
        self.state = {name: torch.zeros(k, size, device=device) for name in needed_state([m.hyper for m in ms])}
        self.steps = [m.steps for m in ms]
        for r, m in enumerate(ms):
            self._load(r, m)
        self.leaves = []
        for (w, b), (gw, gb) in zip(self.layout.views(self.params), self.layout.views(self.grads)):
            w, b = w.detach().requires_grad_(), b.detach().requires_grad_()
            w.grad, b.grad = gw, gb  # autograd accumulates in place into the flat gradient
            self.leaves.append((w, b))
        padded = any(m.shape.widths != widths for m in ms)
        needs_mask = padded and not all(zero_is_fixed_point(h.activation) for h in self.hidden)
        self.grad_mask = torch.stack([self.layout.mask_row(m.shape) for m in ms]).to(device) if needs_mask else None
        self.dropout = [[h.dropout for h in m.shape.hidden] for m in ms]
        self.has_dropout = any(any(p) for p in self.dropout)
        self.columns: dict[tuple[float, ...], torch.Tensor] = {}
        self._plan()

    # -- moving members in and out ------------------------------------------------------------
    def _load(self, r: int, m: Member) -> None:
        with torch.no_grad():
            self.layout.scatter(self.params[r], m.shape, list(m.model.parameters()))
            solo = m.optimizer.param_groups[0]["params"]
            for name in member_state_names(m.hyper):
                values = [m.optimizer.state.get(p, {}).get(name) for p in solo]
                if all(v is not None for v in values):
                    self.layout.scatter(self.state[name][r], m.shape, values)

    def write_back(self) -> None:
        """Copy each member's weights and optimizer state into its solo model and optimizer."""
        for r, m in enumerate(self.members):
            m.steps = self.steps[r]
            with torch.no_grad():
                for p, value in zip(m.model.parameters(), self.layout.gather(self.params[r], m.shape)):
                    p.copy_(value)
            solo = m.optimizer.param_groups[0]["params"]
            for p in solo:
                m.optimizer.state.pop(p, None)
            if m.steps == 0:
                continue
            per_name = {name: self.layout.gather(self.state[name][r], m.shape) for name in member_state_names(m.hyper)}
            for j, p in enumerate(solo):
                entry: dict[str, torch.Tensor] = {}
                if m.hyper.kind in COUNTS_STEPS:
                    entry["step"] = torch.tensor(float(m.steps), dtype=_scalar_dtype())
                entry.update({name: values[j] for name, values in per_name.items()})
                m.optimizer.state[p] = entry

    # -- the schedule of ticks ----------------------------------------------------------------
    def _plan(self) -> None:
        """Per tick: each member's loss weight 1/len(batch), who steps, and the runs of one rule."""
        n = len(self.data.x_train)
        sizes = [m.batch_size for m in self.members]
        self.tick = math.gcd(*sizes)
        self.ticks = []
        self.batch_ends: list[tuple[np.ndarray, np.ndarray]] = []  # per tick: who ends a batch, its length
        kinds = [m.hyper.kind for m in self.members]
        for lo in range(0, n, self.tick):
            hi = min(lo + self.tick, n)
            lens = [min(b, n - (lo // b) * b) for b in sizes]
            stepping = [hi % b == 0 or hi == n for b in sizes]
            runs, start = [], None
            for r in range(len(sizes) + 1):
                ends = r == len(sizes) or not stepping[r] or (start is not None and kinds[r] != kinds[start])
                if start is not None and ends:
                    runs.append((start, r))
                    start = None
                if r < len(sizes) and stepping[r] and start is None:
                    start = r
            weight = torch.tensor([1.0 / x for x in lens], dtype=torch.float32, device=self.device).view(-1, 1)
            starts = [r for r, b in enumerate(sizes) if lo % b == 0]
            self.ticks.append((lo, hi, weight, runs, starts, lens))
            self.batch_ends.append((np.array(stepping), np.array(lens, dtype=np.float64)))

    # -- training -----------------------------------------------------------------------------
    def _forward(self, x: torch.Tensor, masks: list[torch.Tensor | None] | None = None) -> torch.Tensor:
        k, rows = x.shape[:2]
        h = x.view(k, rows, *self.image) if self.image else x
        convs = iter(self.spatial)
        for layer, (w, b) in enumerate(self.leaves):
            block = self.hidden[layer] if layer < len(self.hidden) else None
            if block is not None and block.conv:  # K members as K groups of one grouped conv
                height, width = next(convs)
                out, fan_in = w.shape[1], w.shape[2]
                z = h.transpose(0, 1).reshape(rows, k * fan_in, height, width)
                z = F.conv2d(z, w.reshape(k * out, fan_in, 3, 3), b.reshape(k * out), padding=1, groups=k)
                z = block.activation(z) if block.activation is not None else z
                z = F.max_pool2d(z, 2) if block.pool else z
                h = z.view(rows, k, out, *z.shape[2:]).transpose(0, 1)
                continue
            h = torch.baddbmm(b.unsqueeze(1), h.reshape(k, rows, -1), w)
            if block is not None:
                h = block.activation(h) if block.activation is not None else h
                mask = masks[layer] if masks is not None else None
                if mask is not None:
                    h = h * mask
        return h

    def _losses(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.data.binary:
            return F.binary_cross_entropy_with_logits(logits.squeeze(-1), y.float(), reduction="none")
        k, r, c = logits.shape
        return F.cross_entropy(logits.reshape(k * r, c), y.reshape(k * r), reduction="none").view(k, r)

    def train_epoch(self, lrs: list[float]) -> list[float]:
        """One epoch for every member; each one's mean training loss, or the non-finite running total."""
        n = len(self.data.x_train)
        self.columns = {}  # per-member hyperparameter columns, built once an epoch
        self._prefetch_step_columns(lrs)
        orders = torch.stack([torch.randperm(n, generator=m.generator) for m in self.members]).to(self.device)
        k = len(self.members)
        drop_masks: list[list[torch.Tensor]] = [[] for _ in range(k)]
        record = []
        with warnings.catch_warnings():  # the flat [K, P] gradient is strided on purpose
            warnings.filterwarnings("ignore", message="grad and param do not obey the gradient layout")
            for lo, hi, weight, runs, starts, lens in self.ticks:
                idx = orders[:, lo:hi]
                masks = self._dropout_masks(lo, hi, starts, lens, drop_masks) if self.has_dropout else None
                losses = self._losses(self._forward(self.data.x_train[idx], masks), self.data.y_train[idx])
                weighted = (losses * weight).sum(1)
                weighted.sum().backward()
                record.append(weighted.detach())
                with torch.no_grad():
                    for a, b in runs:
                        self._step(a, b, lrs)
        return self._mean_losses(torch.stack(record).cpu().numpy(), n)

    def _mean_losses(self, record: np.ndarray, n: int) -> list[float]:
        """Fitter's `total += float(loss) * len(batch)`, stopping at the first non-finite total."""
        batch = np.zeros(record.shape[1], dtype=np.float32)
        totals = np.zeros(record.shape[1], dtype=np.float64)
        with np.errstate(all="ignore"):
            for row, (stepping, lens) in zip(record, self.batch_ends):
                batch += row
                grown = np.where(np.isfinite(totals), totals + batch.astype(np.float64) * lens, totals)
                totals = np.where(stepping, grown, totals)
                batch[stepping] = 0.0
        return [t / n if math.isfinite(t) else float(t) for t in totals.tolist()]

    def _prefetch_step_columns(self, lrs: list[float]) -> None:
        """The epoch's per-step columns (Adam's bias corrections), replayed from the tick plan and
        uploaded in one copy; a column not found here is still made when asked (correct, slower)."""
        steps, wanted = list(self.steps), []
        for _, _, _, runs, _, _ in self.ticks:
            for a, b in runs:
                for r in range(a, b):
                    steps[r] += 1
                columns = STEP_COLUMNS.get(self.members[a].hyper.kind)
                if columns is not None:
                    run = Run([m.hyper for m in self.members[a:b]], lrs[a:b], steps[a:b], self.device)
                    wanted += [tuple(v) for v in columns(run) if any(x != v[0] for x in v)]
        keys = list(dict.fromkeys(wanted))
        if not keys:
            return
        flat = torch.tensor([x for key in keys for x in key], dtype=torch.float32, device=self.device)
        offset = 0
        for key in keys:
            self.columns[key] = flat[offset:offset + len(key)].view(-1, 1)
            offset += len(key)

    def _step(self, a: int, b: int, lrs: list[float]) -> None:
        for r in range(a, b):
            self.steps[r] += 1
        if self.grad_mask is not None:
            self.grads[a:b].mul_(self.grad_mask[a:b])
        run = Run([m.hyper for m in self.members[a:b]], lrs[a:b], self.steps[a:b], self.device, self.columns)
        rule = RULES[self.members[a].hyper.kind]
        rule(run, self.params[a:b], self.grads[a:b], {name: s[a:b] for name, s in self.state.items()})
        self.grads[a:b].zero_()

    def _dropout_masks(self, lo: int, hi: int, starts: list[int], lens: list[int],
                       held: list[list[torch.Tensor]]) -> list[torch.Tensor | None]:
        """Each member's dropout noise, drawn per batch from its own generator as F.dropout draws it."""
        for r in starts:
            m, held[r] = self.members[r], []
            for p, hidden in zip(self.dropout[r], m.shape.hidden):
                if p:
                    noise = torch.empty(lens[r], hidden.width).bernoulli_(1 - p, generator=m.dropout_generator)
                    held[r].append(noise.div_(1 - p))
        out: list[torch.Tensor | None] = []
        for layer, (w, _) in enumerate(self.leaves[:-1]):
            if not any(p[layer] for p in self.dropout):
                out.append(None)
                continue
            full = torch.ones(len(self.members), hi - lo, w.shape[2])
            for r, m in enumerate(self.members):
                p = self.dropout[r][layer]
                if p:
                    first = lo - (lo // m.batch_size) * m.batch_size
                    noise = held[r][sum(1 for q in self.dropout[r][:layer] if q)]
                    full[r, :, :noise.shape[1]] = noise[first:first + hi - lo]
            out.append(full.to(self.device))
        return out

    @torch.no_grad()
    def validate(self) -> tuple[list[float], list[float]]:
        x, y = self.data.x_val, self.data.y_val
        logits = self._forward(x.expand(len(self.members), *x.shape))
        loss = self._losses(logits, y.expand(len(self.members), *y.shape)).mean(1)
        pred = (logits.squeeze(-1) > 0).long() if self.data.binary else logits.argmax(-1)
        accuracy = (pred == y.long()).float().mean(1)
        return loss.tolist(), accuracy.tolist()


def _scalar_dtype() -> torch.dtype:
    """The dtype torch.optim gives its 'step' counts."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
