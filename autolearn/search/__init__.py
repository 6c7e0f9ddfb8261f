"""HOW a sweep searches: strategies (grid, random, tpe, gp, bohb, ...) and early-stopping schedulers.

Every strategy reads the one `SearchSpace` of `config/space.py` and turns it into Ray Tune's
search algorithm (the model-based ones through the one `SpaceEncoding`); schedulers decide per
report whether a trial goes on. Both can come from outside the package by import path. This
package registers its spec checks with `config.validation`, so a bad option fails when the spec loads.
"""
from __future__ import annotations

from autolearn.config.validation import register_check
from autolearn.search.checks import check_search
from autolearn.search.encoding import Dimension, SpaceEncoding, dimension
from autolearn.search.population import check_population
from autolearn.search.schedulers import SCHEDULERS, make_scheduler
from autolearn.search.strategies import STRATEGIES, SearchPlan, SearchRequest, Strategy, get_strategy, make_search

__all__ = ["SCHEDULERS", "STRATEGIES", "Dimension", "SearchPlan", "SearchRequest", "SpaceEncoding", "Strategy",
           "dimension", "get_strategy", "make_scheduler", "make_search"]

register_check("search", check_search)
register_check("population", check_population)
