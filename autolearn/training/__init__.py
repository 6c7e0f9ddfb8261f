"""The built-in PyTorch trainable: data sets, models, optimizers and schedules, the epoch loop.

`loop.py` holds the Ray-free training code (the benchmarks' plain loop and the best trial's test
score run exactly the same code); `trainable.py` wraps it for Ray Tune; `session.py` is what a
user's own trainable calls. This package registers its spec checks with `config.validation`.
"""
from __future__ import annotations

from autolearn.config.validation import register_check
from autolearn.training.checks import check_builtin
from autolearn.training.ddp_checks import check_distributed
from autolearn.training.session import get_checkpoint, report

__all__ = ["get_checkpoint", "report"]

register_check("training", check_builtin)
register_check("distributed", check_distributed)
