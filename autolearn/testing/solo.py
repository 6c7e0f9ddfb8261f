"""The reference a fused member is checked against: its config trained alone by the solo loop."""
from __future__ import annotations

import math
from typing import Any


def solo_val_losses(exp: Any, config: dict[str, Any]) -> list[float]:
    """Validation losses, epoch by epoch, of one config of `exp` trained alone by the built-in loop
    (`Fitter`, as `train_trial` runs it, without Ray), up to its epochs or its divergence."""
    import torch

    from autolearn.execution.runner import prepare_job
    from autolearn.training.loop import Fitter
    from autolearn.training.optim import step_schedule

    fitter, losses = Fitter(prepare_job(exp), config, torch.device("cpu")), []
    for _ in range(exp.train.epochs):
        if not math.isfinite(fitter.train_epoch()):
            break
        losses.append(fitter.validate()[0])
        step_schedule(fitter.settings.lr_schedule, fitter.schedule, losses[-1])
    return losses
