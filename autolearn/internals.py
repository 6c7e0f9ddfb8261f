"""Every private part of Ray, hyperopt and bayes_opt that autolearn touches, in one place.

A library upgrade that moves one of these breaks here, and `tests/unit/test_internals.py` has
one test per access that fails loudly naming it. Nothing else in the package may read a private
attribute of these libraries. The environment variables autolearn sets are here too.
"""
from __future__ import annotations

from typing import Any

# --- Ray (execution) ---------------------------------------------------------------------------

# --- hyperopt and bayes_opt (search) -------------------------------------------------------------
# hyperopt's TPE runs through Ray's `HyperOptSearch`, which turns a trial's result into
# hyperopt's {"loss", "status"} in the private `_to_hyperopt_result`; the GP's acquisition
# function is handed bayes_opt's fitted regressor, which `BayesianOptimization` keeps as `_gp`.


class HyperOptResultHook:
    """Mixin for Ray's `HyperOptSearch` (put it first in the bases): routes the private
    `_to_hyperopt_result` to the public `hyperopt_result`, which subclasses write.

    autolearn needs the hook to score failed and NaN trials as hyperopt failures (Ray would pass
    the NaN on); it is Ray's private method, so it is overridden here and nowhere else.
    """

    def _to_hyperopt_result(self, result: dict[str, Any]) -> dict[str, Any]:
        return self.hyperopt_result(result)

    def hyperopt_result(self, result: dict[str, Any]) -> dict[str, Any]:
        """A finished trial's result → hyperopt's `{"loss": .., "status": "ok"}` or `{"status": "fail"}`."""
        raise NotImplementedError


def bayes_opt_gp(optimizer: Any) -> Any:
    """The Gaussian-process regressor of a `bayes_opt.BayesianOptimization` (private `_gp`), for
    `acquisition_function.suggest(gp=...)`, which takes it as an argument but has no public getter."""
    try:
        return optimizer._gp
    except AttributeError:
        import bayes_opt

        raise AttributeError(f"bayes_opt {bayes_opt.__version__}: BayesianOptimization has no `_gp` any more; "
                             "update autolearn.internals.bayes_opt_gp") from None
