"""Which strategy works with which early-stopping scheduler, checked when the spec loads.

A strategy that learns from intermediate results (`bohb`) needs a scheduler that produces them at
several budgets and stops poor trials. Under `fifo` every trial runs its full budget (bohb would be
a slower `tpe`); `pbt`/`pb2` rewrite the configs the strategy proposed mid-training. Either is an
error naming the scheduler to use, not a silent swap of the scheduler the spec named. Schedulers
named by import path are the user's own: their behaviour is unknown here, so they pass.
"""
from __future__ import annotations

from autolearn.errors import ConfigError, allowed

# strategy → (schedulers it refuses, the reason, the schedulers it pairs with)
REFUSED: dict[str, tuple[frozenset[str], str, tuple[str, ...]]] = {
    "bohb": (frozenset({"fifo", "pbt", "pb2"}),
             "bohb models the results of early-stopped trials at every rung, so it needs an "
             "early-stopping scheduler; {scheduler!r} {why}",
             ("asha", "hyperband", "median")),
}
WHY = {"fifo": "never stops a trial (bohb would be a slower tpe)",
       "pbt": "changes the configs bohb proposes while they train",
       "pb2": "changes the configs bohb proposes while they train"}


def check_pairing(strategy: object, scheduler: object) -> None:
    """A one-line ConfigError on `scheduler.name` when `strategy` cannot work under `scheduler`."""
    if not isinstance(strategy, str) or not isinstance(scheduler, str) or strategy not in REFUSED:
        return
    refused, reason, pairs = REFUSED[strategy]
    if scheduler in refused:
        raise ConfigError("scheduler.name", reason.format(scheduler=scheduler, why=WHY.get(scheduler, "does not"))
                          + f"; use {allowed(pairs)} (e.g. `scheduler: asha`)")
