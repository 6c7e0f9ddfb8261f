"""TensorBoard HParams summaries built from autolearn's search space, without TensorFlow.

The HParams dashboard needs three things: one experiment summary (every hyperparameter with its
domain, every metric), and per trial a session-start summary (its hyperparameter values) and a
session-end summary (how it ended). Choice parameters become discrete domains and numeric ranges
intervals, so the dashboard offers the right filters. A trial's `status` (finished / stopped /
diverged / timeout / error) is written as one more discrete hyperparameter: TensorBoard's own
session status knows only success and failure, and early stopping is neither.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from autolearn.config.space import ChoiceParam, FloatParam, IntParam, Param
from autolearn.results.status import SESSION_STATUS, STATUSES
from autolearn.values import plain

STATUS_HPARAM = "status"


def _summary(tag: str, plugin_data: Any) -> Any:
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import metadata

    summary = summary_pb2.Summary()
    summary.value.add(tag=tag, metadata=metadata.create_summary_metadata(plugin_data),
                      tensor=metadata.NULL_TENSOR)
    return summary


def _kind(values: Iterable[Any]) -> str:
    """The one protobuf value type a discrete domain may hold: bool, number or (else) string."""
    values = list(values)
    if values and all(isinstance(v, bool) for v in values):
        return "bool"
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "number"
    return "string"


def hparam_value(param: Param | None, value: Any) -> bool | float | str:
    """A config value in the type its domain declares (mixed choices are shown as strings)."""
    value = plain(value)
    kind = _kind(param.values) if isinstance(param, ChoiceParam) else _kind([value])
    if kind == "bool":
        return bool(value)
    if kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return str(value)


def hparam_info(name: str, param: Param | None) -> Any:
    """One `HParamInfo`: discrete for choices (and `status`), an interval for numeric ranges."""
    from tensorboard.plugins.hparams import api_pb2

    info = api_pb2.HParamInfo(name=name)
    if isinstance(param, ChoiceParam):
        kind = _kind(param.values)
        info.type = {"bool": api_pb2.DATA_TYPE_BOOL, "number": api_pb2.DATA_TYPE_FLOAT64}.get(
            kind, api_pb2.DATA_TYPE_STRING)
        values = [hparam_value(param, v) for v in param.values]
        info.domain_discrete.extend(values)
    elif isinstance(param, (FloatParam, IntParam)):
        info.type = api_pb2.DATA_TYPE_FLOAT64
        info.domain_interval.min_value = float(param.low)
        info.domain_interval.max_value = float(param.high)
    return info


def experiment_summary(space: Mapping[str, Param | None], metric_tags: Iterable[str],
                       description: str = "", time_created_secs: float | None = None) -> Any:
    """The experiment definition: written once, into the top-level run of the TensorBoard folder."""
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    status = ChoiceParam(tuple(STATUSES))
    infos = [hparam_info(name, param) for name, param in space.items()] + [hparam_info(STATUS_HPARAM, status)]
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(group="", tag=tag), display_name=tag)
               for tag in dict.fromkeys(metric_tags)]
    experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics, description=description,
                                    time_created_secs=time_created_secs or 0.0)
    return _summary(metadata.EXPERIMENT_TAG, plugin_data_pb2.HParamsPluginData(experiment=experiment))


def session_start_summary(group: str, config: Mapping[str, Any], space: Mapping[str, Param | None],
                          status: str, start_time_secs: float) -> Any:
    """One trial's hyperparameter values (and its status); `group` keeps every trial its own row."""
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2

    info = plugin_data_pb2.SessionStartInfo(group_name=group, start_time_secs=start_time_secs)
    values = {name: hparam_value(space.get(name), config[name]) for name in space if name in config}
    values[STATUS_HPARAM] = status
    for name, value in values.items():
        if isinstance(value, bool):
            info.hparams[name].bool_value = value
        elif isinstance(value, float):
            if math.isfinite(value):
                info.hparams[name].number_value = value
        else:
            info.hparams[name].string_value = value
    return _summary(metadata.SESSION_START_INFO_TAG, plugin_data_pb2.HParamsPluginData(session_start_info=info))


def session_end_summary(status: str, end_time_secs: float) -> Any:
    """How one trial ended, as TensorBoard's own session status (success or failure)."""
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    code = api_pb2.Status.Value(SESSION_STATUS.get(status, "STATUS_UNKNOWN"))
    info = plugin_data_pb2.SessionEndInfo(status=code, end_time_secs=end_time_secs)
    return _summary(metadata.SESSION_END_INFO_TAG, plugin_data_pb2.HParamsPluginData(session_end_info=info))
