"""The strategy interface: one search space in, a Ray Tune search algorithm out.

A strategy is a small class: `check` rejects what it cannot honour at spec-load time (before Ray
starts), `build` makes what `tune.Tuner` needs. Options a strategy does not declare are an error,
never silently dropped.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from autolearn.config.objectives import ConstraintSpec
from autolearn.config.sections import MetricSpec
from autolearn.config.space import SearchSpace
from autolearn.errors import ConfigError, allowed

if TYPE_CHECKING:
    from autolearn.config.spec import Experiment


@dataclass(frozen=True)
class SearchPlan:
    """What the runner hands to `tune.Tuner`.

    `search_alg` None means Ray's own variant generator samples `param_space` (grid and random);
    `num_samples` is Ray's meaning of it for this plan (for grid: repeats of the whole grid).
    """

    param_space: dict[str, Any]
    num_samples: int
    search_alg: Any = None
    expected_trials: int = 0  # how many trials the sweep will run, for progress and checks


@dataclass(frozen=True)
class SearchRequest:
    """Everything a strategy may read, in one place (the spec's `search` section, resolved)."""

    space: SearchSpace
    metric: str
    mode: str
    num_samples: int = 10
    seed: int | None = None
    max_concurrent: int | None = None
    points_to_evaluate: Sequence[Mapping[str, Any]] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    # Every objective, the primary (`metric`, `mode`) first; empty means that one alone. And the
    # `constraints:` bounds, which model-based strategies learn from (`sequential.py`).
    objectives: Sequence[MetricSpec] = ()
    constraints: Sequence[ConstraintSpec] = ()

    @property
    def all_objectives(self) -> tuple[MetricSpec, ...]:
        return tuple(self.objectives) or (MetricSpec(self.metric, self.mode),)  # type: ignore[arg-type]

    @classmethod
    def from_experiment(cls, exp: Experiment) -> SearchRequest:
        """The request a spec makes: its space, metric and `search` section."""
        return cls(space=exp.space, metric=exp.metric.name, mode=exp.metric.mode,
                   num_samples=exp.search.num_samples or 1, seed=exp.search.seed,
                   max_concurrent=exp.search.max_concurrent,
                   points_to_evaluate=exp.search.points_to_evaluate, options=exp.search.options,
                   objectives=exp.objectives, constraints=exp.constraints)


class Strategy(ABC):
    """Base of every strategy; subclasses set `name`, `option_names` and write `build`.

    A strategy outside the package (`search.strategy: mypkg.search:MyStrategy`) is the same
    subclass; without a `name` of its own, messages call it by its class name.
    """

    name: ClassVar[str]
    option_names: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__

    def check(self, request: SearchRequest) -> None:
        """Load-time validation; the default checks options and warm-start points."""
        for key in request.options:
            if key not in self.option_names:
                hint = f"allowed: {allowed(self.option_names)}" if self.option_names else "it takes no options"
                raise ConfigError(f"search.{key}", f"unknown option for strategy {self.name!r}; {hint}")
        for i, point in enumerate(request.points_to_evaluate):
            for key, value in point.items():
                if key not in request.space:
                    raise ConfigError(f"search.points_to_evaluate[{i}].{key}",
                                      f"not a searched parameter; the space has: {allowed(request.space)}")
                if not request.space[key].contains(value):
                    raise ConfigError(f"search.points_to_evaluate[{i}].{key}",
                                      f"{value!r} is outside {request.space[key].to_dict()}")
            inactive = [key for key in point if key not in request.space.prune(point)]
            if inactive:
                raise ConfigError(f"search.points_to_evaluate[{i}].{inactive[0]}",
                                  "inactive in this point (its `when:` condition does not hold); leave it out")

    @abstractmethod
    def build(self, request: SearchRequest) -> SearchPlan:
        """Make the Ray Tune objects; called after `check`, when Ray is about to run."""


def limit_concurrency(search_alg: Any, max_concurrent: int | None) -> Any:
    """Wrap a searcher in Ray's ConcurrencyLimiter when the spec caps concurrent trials.

    Ray's limiter saves only the searcher it wraps, not which trials are live; after a resume the
    trials that were running finish unseen (`on_trial_complete` drops unknown ids), so their scores
    never reach the model. Ours saves both.
    """
    if search_alg is None or not max_concurrent:
        return search_alg
    from autolearn.search.strategies.limiter import StatefulConcurrencyLimiter

    return StatefulConcurrencyLimiter(search_alg, max_concurrent=max_concurrent)
