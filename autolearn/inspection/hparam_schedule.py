"""Each trial's hyperparameter schedule in a population sweep (pbt, pb2): recorded as it trains.

PBT changes a trial's config while it trains, so the config Ray shows at the end is only where the
schedule stopped. `HparamRecorder` copies the values in force into every report as `hp/<name>`,
from the config the trial itself ran that epoch with (Ray puts it in the report), before the
TensorBoard and file loggers see the report: the schedule lands in TensorBoard (an `hp/lr` scalar
per trial) and in each trial's progress.csv. It also appends each report's values to
`hparam_schedule.jsonl` beside the TensorBoard folder, the one record that survives Ray
rewriting a restarted trial's result.json; `SweepResult.hparam_schedule` and the report read it.
User trainables get the same: they report nothing extra.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ray.tune import Callback

from autolearn.results.sweep import HP_PREFIX, SCHEDULE_FILE
from autolearn.values import plain


class HparamRecorder(Callback):
    """Adds `hp/<name>` for each mutable parameter to every result (Ray lets callbacks edit it in place)."""

    def __init__(self, names: Sequence[str], directory: str | Path) -> None:
        self.names = tuple(names)
        self.path = Path(directory) / SCHEDULE_FILE

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        config = result.get("config") or trial.config
        values = {name: plain(config[name]) for name in self.names if name in config}
        for name, value in values.items():  # a choice of strings lands in the files; TensorBoard draws numbers
            result[HP_PREFIX + name] = value
        record = {"trial_id": trial.trial_id, "epoch": int(result.get("training_iteration", 0)), **values}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as out:
            out.write(json.dumps(record) + "\n")
