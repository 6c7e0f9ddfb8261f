"""The search section checked against the strategies and schedulers that will run it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from autolearn.search.pairing import check_pairing
from autolearn.search.schedulers import check_scheduler
from autolearn.search.strategies import SearchRequest, get_strategy

if TYPE_CHECKING:
    from autolearn.config.spec import Experiment


def check_search(exp: Experiment) -> None:
    """The strategy can honour the space and its options; the scheduler's options fit the budget."""
    get_strategy(exp.search.strategy).check(SearchRequest.from_experiment(exp))
    check_scheduler(exp.scheduler.name, exp.scheduler.options, exp.max_epochs, exp.space)
    check_pairing(exp.search.strategy, exp.scheduler.name)
