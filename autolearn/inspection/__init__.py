"""What people SEE of a sweep: live progress, TensorBoard scalars and HParams, failure lines,
and the report (plots and markdown) of a finished or running experiment. The Ray Tune callbacks
here are attached by `execution`; the report reads only the experiment folder.

Names are imported on first use (a name → module registry, as Ray Tune's `search` does): each
pulls in Ray Tune, TensorBoard or pandas, and `import autolearn` stays light.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {  # name → the module of this package that defines it
    "FailureReporter": "failures",
    "HparamRecorder": "hparam_schedule",
    "ProgressCallback": "progress",
    "SweepProgress": "progress",
    "TensorBoardCallback": "tensorboard",
    "load_sweep": "report",
    "write_report": "report",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the module that defines `name` when it is first asked for."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
