"""Population-based training (`pbt`) and its Bayesian variant (`pb2`) on Ray Tune's own schedulers.

Both train a population of trials and, every `perturbation_interval` epochs, let the worst
`quantile_fraction` restart from a checkpoint of one of the best with changed hyperparameters
(exploit, then explore). PBT explores by multiplying a value by 0.8 or 1.2, shifting a choice to a
neighbour, or resampling it from `space` (`resample_probability`); PB2 picks the new values with a
time-varying GP bandit over the numeric bounds (it needs ranges, not choices). Only the `mutate`
parameters change; their bounds, scale and step come from `space`, and `KeepInSpace` pulls every
explored value back into them (Ray's PBT would happily multiply a rate past its upper bound).

What a population sweep needs from the rest of the spec is checked when it loads (`check_population`).
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from autolearn.config.space import ChoiceParam, FloatParam, IntParam, Param, SearchSpace
from autolearn.errors import ConfigError, allowed

if TYPE_CHECKING:
    from autolearn.config.spec import Experiment

POPULATION_SCHEDULERS = ("pbt", "pb2")
# What a population mutates unless `mutate` says otherwise: the settings that are safe to change
# mid-training (the model's shape, the optimizer's kind and the schedule are not).
DEFAULT_MUTATE = ("lr", "momentum", "weight_decay", "dropout", "batch_size")
STRATEGIES = ("random",)  # the initial population is drawn independently; see check_population
TIME_ATTR = "training_iteration"


def mutate_names(scheduler: str, space: SearchSpace, mutate: Sequence[str] | None) -> tuple[str, ...]:
    """The `space` parameters the population may change, checked against what `scheduler` can move."""
    path = "scheduler.mutate"
    if mutate is None:
        names = tuple(n for n in DEFAULT_MUTATE if n in space)
        if not names:
            raise ConfigError(path, f"{scheduler} needs a parameter to mutate; space has none of "
                              f"{allowed(DEFAULT_MUTATE)}: list space parameters in scheduler.mutate")
    elif isinstance(mutate, str) or not isinstance(mutate, Sequence) or not mutate:
        raise ConfigError(path, f"expected a non-empty list of space parameter names, got {mutate!r}")
    else:
        names = tuple(mutate)
    for name in names:
        if name not in space:
            raise ConfigError(path, f"{name!r} is not a space parameter; allowed: {allowed(space)}")
        if scheduler == "pb2" and not isinstance(space[name], (FloatParam, IntParam)):
            raise ConfigError(path, f"pb2 models numeric ranges; space.{name} is a {space[name].kind} "
                              "(use a float or int range, or pbt, which shifts choices)")
    return names


class KeepInSpace:
    """Ray's `custom_explore_fn`: explored values clipped to their range and snapped to its step/ints.

    A class, not a closure: Ray pickles the scheduler with the Tuner (resume reads it back).
    """

    def __init__(self, params: Mapping[str, Param]) -> None:
        self.params = dict(params)

    def __call__(self, config: dict[str, Any]) -> dict[str, Any]:
        for name, p in self.params.items():
            if name in config and isinstance(p, (FloatParam, IntParam)):
                config[name] = keep_in(p, config[name])
        return config


def keep_in(p: FloatParam | IntParam, value: Any) -> float | int:
    """`value` inside `p`'s inclusive range, on its step; an int parameter stays an int."""
    x = min(max(float(value), p.low), p.high)
    if p.step is not None and not p.log:
        x = p.low + round((x - p.low) / p.step) * p.step
        x = min(x, p.high)
    return int(round(x)) if isinstance(p, IntParam) else x


def _mutation(p: Param) -> Any:
    """Ray's form of one mutable parameter: a list for choices (shifted to a neighbour), otherwise
    the Tune domain `space` samples with (a resample keeps log scale; a perturbation multiplies)."""
    if isinstance(p, ChoiceParam):
        return list(p.values)
    return p.to_tune()


def _interval(perturbation_interval: Any, max_t: int | None) -> int:
    """Epochs between perturbations: as given, or a quarter of the budget (at least 1)."""
    if perturbation_interval is None:
        return max(1, (max_t or 4) // 4)
    return int(perturbation_interval)


def pbt(space: SearchSpace, max_t: int | None = None, perturbation_interval: int | None = None,
        quantile_fraction: float = 0.25, resample_probability: float = 0.25,
        mutate: Sequence[str] | None = None, synch: bool = False) -> Any:
    """Ray Tune's `PopulationBasedTraining` over the `mutate` parameters of `space`.

    `synch`: Ray's synchronous PBT, every trial waits for the whole population at each
    perturbation; slower when trials differ in speed, but a trial that starts late (or runs on a
    slower node) is still compared, where the asynchronous default may compare it with no one.
    """
    from ray.tune.schedulers import PopulationBasedTraining

    names = mutate_names("pbt", space, mutate)
    return PopulationBasedTraining(
        time_attr=TIME_ATTR, perturbation_interval=_interval(perturbation_interval, max_t),
        hyperparam_mutations={n: _mutation(space[n]) for n in names}, quantile_fraction=quantile_fraction,
        resample_probability=resample_probability, custom_explore_fn=KeepInSpace({n: space[n] for n in names}),
        synch=synch)


def pb2(space: SearchSpace, max_t: int | None = None, perturbation_interval: int | None = None,
        quantile_fraction: float = 0.25, mutate: Sequence[str] | None = None, synch: bool = False) -> Any:
    """Ray Tune's `PB2` (scikit-learn's GP, no GPy) over the numeric `mutate` ranges of `space`."""
    from ray.tune.schedulers.pb2 import PB2

    names = mutate_names("pb2", space, mutate)
    params = {n: space[n] for n in names}
    bounds: dict[str, Any] = {n: [p.low, p.high] for n, p in params.items() if isinstance(p, (FloatParam, IntParam))}
    return PB2(time_attr=TIME_ATTR, perturbation_interval=_interval(perturbation_interval, max_t),
               hyperparam_bounds=bounds, quantile_fraction=quantile_fraction,
               custom_explore_fn=KeepInSpace(params), synch=synch)


def check_options(name: str, given: Mapping[str, Any]) -> None:
    """The population options mean what Ray's schedulers need (raised, never Ray's `assert`s)."""
    space: SearchSpace = given["space"]
    mutate_names(name, space, given.get("mutate"))
    interval = given.get("perturbation_interval")
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, int) or interval < 1):
        raise ConfigError("scheduler.perturbation_interval", f"must be a whole number of epochs >= 1, got {interval!r}")
    budget = given.get("max_t")
    if budget is not None and _interval(interval, budget) >= budget:
        raise ConfigError("scheduler.perturbation_interval", f"{_interval(interval, budget)} epochs leaves no "
                          f"perturbation inside the budget of a trial ({budget} epochs); lower it or train longer")
    if not isinstance(given.get("synch", False), bool):
        raise ConfigError("scheduler.synch", f"expected true or false, got {given['synch']!r}")
    for key, low, high, low_open in (("quantile_fraction", 0.0, 0.5, True), ("resample_probability", 0.0, 1.0, False)):
        value = given.get(key)
        if value is None:
            continue
        number = not isinstance(value, bool) and isinstance(value, (int, float))
        if not number or value > high or value < low or (low_open and value == low):
            shown = f"{'(' if low_open else '['}{low}, {high}]"
            raise ConfigError(f"scheduler.{key}", f"must be a number in {shown}, got {value!r}")


def restores_checkpoints(trainable: Any) -> bool | None:
    """Whether a user trainable reads a checkpoint back (None: its source cannot be read).

    An exploit restarts the trial from the donor's checkpoint; a trainable that never calls
    `get_checkpoint` (autolearn's, Ray Tune's or Ray Train's) would start from scratch instead.
    """
    if inspect.isclass(trainable):
        from ray.tune import Trainable

        return None if not issubclass(trainable, Trainable) else "load_checkpoint" in trainable.__dict__
    try:
        source = inspect.getsource(trainable)
    except (OSError, TypeError):
        return None
    return "get_checkpoint" in source


def check_population(exp: Experiment) -> None:
    """A population scheduler with a spec that can run it: the pairings that cannot work fail here."""
    name = exp.scheduler.name
    if name not in POPULATION_SCHEDULERS:
        return
    if exp.search.strategy not in STRATEGIES:
        raise ConfigError("search.strategy", f"{name} draws its initial population at random, then "
                          f"searches by mutation itself; strategy {exp.search.strategy!r} cannot run under it "
                          f"(grid's points and tpe/gp's models do not survive mutation); "
                          f"allowed: {allowed(STRATEGIES)}")
    if exp.search.fuse != 1:
        raise ConfigError("search.fuse", f"fused workers cannot restore a trial from another's checkpoint; "
                          f"{name} needs search.fuse: 1")
    if (exp.search.num_samples or 0) < 2:
        raise ConfigError("search.num_samples", f"{name} needs a population of at least 2 trials, "
                          f"got {exp.search.num_samples}")
    if exp.task.cv is not None or exp.task.repeats != 1:
        raise ConfigError("task.cv" if exp.task.cv is not None else "task.repeats",
                          f"the retrain on the best config cannot replay a {name} schedule; remove it")
    trainable = exp.task.trainable
    if trainable is not None:
        from autolearn.config.plugins import import_object

        fn = import_object(trainable, "task.trainable") if isinstance(trainable, str) else trainable
        if restores_checkpoints(fn) is False:
            raise ConfigError("task.trainable", f"{name} restarts trials from another trial's checkpoint, "
                              "but this trainable never reads one: report a checkpoint and restore it with "
                              "autolearn.get_checkpoint() (see README, Population-based training)")


def population_plan(exp: Experiment) -> tuple[tuple[str, ...], int] | None:
    """(mutated parameters, perturbation interval) of a population sweep; None for any other."""
    name = exp.scheduler.name
    if name not in POPULATION_SCHEDULERS:
        return None
    options = exp.scheduler.options
    interval = _interval(options.get("perturbation_interval"), exp.max_epochs)
    return mutate_names(name, exp.space, options.get("mutate")), interval


def is_population(name: Any) -> bool:
    return name in POPULATION_SCHEDULERS


__all__ = ["DEFAULT_MUTATE", "KeepInSpace", "check_population", "is_population", "keep_in",
           "mutate_names", "pb2", "pbt", "population_plan", "restores_checkpoints"]
