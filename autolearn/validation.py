"""Cross-section checks of an `Experiment`: what no single section can judge on its own."""
from __future__ import annotations

from typing import TYPE_CHECKING

from autolearn.errors import ConfigError, allowed
from autolearn.space import ChoiceParam, FloatParam, IntParam

if TYPE_CHECKING:
    from autolearn.spec import Experiment


def check_experiment(exp: "Experiment") -> None:
    if exp.uses_builtin_trainable:
        _check_builtin(exp)
    elif not callable(exp.task.trainable):
        from autolearn.plugins import import_object

        import_object(exp.task.trainable, "task.trainable")
    from autolearn.strategies import SearchRequest, get_strategy

    if not exp.space and exp.search.strategy != "grid":
        pass  # an empty space is a valid (if dull) sweep: num_samples runs of the base settings
    request = SearchRequest(space=exp.space, metric=exp.metric.name, mode=exp.metric.mode,
                            num_samples=exp.search.num_samples, seed=exp.search.seed,
                            max_concurrent=exp.search.max_concurrent,
                            points_to_evaluate=exp.search.points_to_evaluate, options=exp.search.options)
    get_strategy(exp.search.strategy).check(request)
    from autolearn.schedulers import check_scheduler

    check_scheduler(exp.scheduler.name, exp.scheduler.options, exp.max_epochs)


def _check_builtin(exp: "Experiment") -> None:
    from autolearn.spec import BUILTIN_METRICS, TRAIN_TUNABLE, check_train_value
    from autolearn.training.data import check_dataset
    from autolearn.training.models import model_builder, model_param_names

    check_dataset(exp.task.dataset.name, dict(exp.task.dataset.params))
    model_builder(exp.model.name, dict(exp.model.params))
    model_keys = model_param_names(exp.model.name)
    if exp.metric.name not in BUILTIN_METRICS:
        raise ConfigError("metric.name", f"the built-in training loop reports {allowed(BUILTIN_METRICS)}; "
                          f"got {exp.metric.name!r}")
    for key, param in exp.space.items():
        path = f"space.{key}"
        if key in TRAIN_TUNABLE:
            _check_values(key, param, path, check_train_value)
        elif key == "epochs":
            raise ConfigError(path, "epochs is the budget of every trial, not a hyperparameter; "
                              "set train.epochs (or --max-epochs) and use scheduler asha to stop early")
        elif model_keys is not None and key not in model_keys:
            raise ConfigError(path, f"no model or train field is named {key!r}; allowed: "
                              f"{allowed(list(TRAIN_TUNABLE) + model_keys)}")


def _check_values(key, param, path, check) -> None:  # type: ignore[no-untyped-def]
    """Every value a parameter can take must be a valid setting (e.g. each optimizer name)."""
    if isinstance(param, ChoiceParam):
        for value in param.values:
            check(key, value, f"{path}.values")
    elif isinstance(param, (FloatParam, IntParam)):
        check(key, param.low, f"{path}.low")
        check(key, param.high, f"{path}.high")
