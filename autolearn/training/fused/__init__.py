"""Fused training: many configs of the built-in MLP loop trained in one process as one batched model.

Each member is still exactly its solo trial (same initial weights, batches, optimizer arithmetic,
schedule and metrics, up to floating-point reduction order). `layers`, `optimizers`, `bucket` and
`core` use only torch, so benchmarks/gpu_fused.py can load them without autolearn; `group` adapts
the core to the sweep's MemberGroup protocol.
"""
from __future__ import annotations

from .group import FusedGroup, fuse_blocker
from .layers import NotFusable

__all__ = ["FusedGroup", "NotFusable", "fuse_blocker"]
