"""The built-in training loop's checks of a spec: data set, model, metric, and every searched value.

Registered with `config.validation` by this package's `__init__`: only this layer knows which
datasets, models, optimizers and schedules exist, so only it can say a name is wrong.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from autolearn.config.sections import BUILTIN_METRICS, COST_METRICS, TRAIN_TUNABLE, check_train_value
from autolearn.config.space import ChoiceParam, FloatParam, IntParam, Param
from autolearn.errors import ConfigError, allowed

if TYPE_CHECKING:
    from autolearn.config.spec import Experiment

_NAMED = {"optimizer": "optimizer", "lr_schedule": "lr schedule"}


def check_training_value(key: str, value: Any, path: str) -> Any:
    """`check_train_value` plus the names only this layer knows (optimizers, LR schedules)."""
    value = check_train_value(key, value, path)
    if key in _NAMED:
        from autolearn.training.optim import OPTIMIZERS, SCHEDULES

        registry = OPTIMIZERS if key == "optimizer" else SCHEDULES
        if value not in registry:
            raise ConfigError(path, f"unknown {_NAMED[key]} {value!r}; allowed: {allowed(registry)}")
    return value


def check_builtin(exp: Experiment) -> None:
    """Everything the built-in loop will build exists and takes the options given."""
    check_toolbox(exp)
    if not exp.uses_builtin_trainable:
        return
    dataset, model, train = exp.builtin_sections()
    from autolearn.training.data import check_dataset
    from autolearn.training.models import model_builder, model_param_names

    for key in _NAMED:
        check_training_value(key, getattr(train, key), f"train.{key}")
    loader = check_dataset(dataset.name, dict(dataset.params))
    check_torch_settings(exp, loader)
    model_builder(model.name, dict(model.params))
    model_keys = model_param_names(model.name)
    check_reported_metrics(exp)
    for key, param in exp.space.items():
        path = f"space.{key}"
        if key in TRAIN_TUNABLE:
            _check_values(key, param, path, check_training_value)
        elif key == "epochs":
            raise ConfigError(path, "epochs is the budget of every trial, not a hyperparameter; "
                              "set train.epochs (or --max-epochs) and use scheduler asha to stop early")
        elif model_keys is not None and key not in model_keys:
            raise ConfigError(path, f"no model or train field is named {key!r}; allowed: "
                              f"{allowed(list(TRAIN_TUNABLE) + model_keys)}")


def check_reported_metrics(exp: Experiment) -> None:
    """Every objective and constraint names a metric the built-in loop reports (`epoch_time_s` only
    when trials train one by one: a fused member's epoch is its group's)."""
    fused = exp.search.fuse != 1
    reported = [m for m in BUILTIN_METRICS if not (fused and m == "epoch_time_s")]
    several = len(exp.objectives) > 1
    named = [(f"metric[{i}].name" if several else "metric.name", m.name) for i, m in enumerate(exp.objectives)]
    named += [(f"constraints[{i}].metric", c.metric) for i, c in enumerate(exp.constraints)]
    for path, name in named:
        if name not in reported:
            why = " (search.fuse: a member's epoch is its group's)" if name in COST_METRICS else ""
            raise ConfigError(path, f"the built-in training loop reports {allowed(reported)}{why}; got {name!r}")


def _check_values(key: str, param: Param, path: str, check: Callable[[str, Any, str], Any]) -> None:
    """Every value a parameter can take must be a valid setting (e.g. each optimizer name)."""
    if isinstance(param, ChoiceParam):
        for value in param.values:
            check(key, value, f"{path}.values")
    elif isinstance(param, (FloatParam, IntParam)):
        check(key, param.low, f"{path}.low")
        check(key, param.high, f"{path}.high")


def check_toolbox(exp: Experiment) -> None:
    """`auto` values and warm-up lengths: what the finders and schedules can honour."""
    for key, param in exp.space.items():
        if getattr(param, "auto", False) and (key != "lr" or not exp.uses_builtin_trainable):
            why = ("a user trainable has no model for the range test to train" if key == "lr" else
                   "the range test finds learning rates; give this parameter low and high")
            raise ConfigError(f"space.{key}.auto", f"only space.lr of the built-in loop can be auto: {why}")
    if exp.resources.gpus_per_trial == "auto" and not exp.uses_builtin_trainable:
        raise ConfigError("resources.gpus_per_trial", "auto measures a trial of the built-in loop; a user "
                          "trainable has none to measure: give a share such as 1 or 0.5")
    if not exp.uses_builtin_trainable:
        return
    t = exp.builtin_sections()[2]
    batch = exp.space.get("batch_size")
    if t.batch_size == "auto" and batch is not None:
        raise ConfigError("space.batch_size", "train.batch_size is auto (found before the sweep); "
                          "search it or find it, not both")
    if isinstance(batch, ChoiceParam) and "auto" in batch.values:
        raise ConfigError("space.batch_size.values", "auto is a value of train.batch_size, not one to search")
    from autolearn.training.schedules import WARMUP_SCHEDULES

    if t.lr_schedule in WARMUP_SCHEDULES and t.lr_warmup_fraction is None and t.lr_warmup_epochs >= t.epochs:
        raise ConfigError("train.lr_warmup_epochs", f"must be below train.epochs ({t.epochs}), got "
                          f"{t.lr_warmup_epochs}: at least one epoch runs after the warm-up")


def check_torch_settings(exp: Experiment, loader: Any) -> None:
    """`train.loader` only for torch Datasets (the built-in data sets are arrays); float16 only where
    a trial gets a GPU (its grad scaler is CUDA's)."""
    from autolearn.training.data import DATASETS

    train = exp.builtin_sections()[2]
    if train.loader is not None and loader in DATASETS.values():
        raise ConfigError("train.loader", f"DataLoader options apply to builders returning torch Datasets; "
                          f"{exp.builtin_sections()[0].name!r} returns arrays: remove train.loader")
    precision = exp.space.get("precision")
    wants_16 = str(train.precision) == "16" or (isinstance(precision, ChoiceParam) and
                                                  any(str(v) == "16" for v in precision.values))
    gpus = exp.resources.gpus_per_trial
    if wants_16 and (train.device == "cpu" or gpus == 0):
        where = "train.precision" if str(train.precision) == "16" else "space.precision.values"
        raise ConfigError(where, "16 (float16 autocast + grad scaler) needs a CUDA GPU, and trials get none "
                          f"(resources.gpus_per_trial: {gpus}, train.device: {train.device}); use bf16 or 32, "
                          "or give trials a GPU")
