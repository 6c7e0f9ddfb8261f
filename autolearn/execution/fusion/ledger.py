"""The fused driver's trials: live ones as Tune `Trial` objects, ended ones frozen to a few KB.

A Tune `Trial` holds ~45 KiB once it has reported (its metric analysis above all), and Tune's
controller keeps every one until the sweep ends: the driver's memory grows with the trials. The
fused driver keeps a trial as an object only while it runs; once it ended (and every callback has
seen it) it is frozen to what Tune's own experiment state holds of it (`Trial.get_json_state`,
compressed), and thawed back into a `Trial` at the end, for the `ResultGrid`, exactly as
`ExperimentAnalysis` reads trials back from a saved experiment.
"""
from __future__ import annotations

import pickle
import zlib
from typing import Any


class TrialLedger:
    """Every trial of the sweep in the order it started; live ones by id, ended ones frozen."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.live: dict[str, Any] = {}
        self.frozen: dict[str, bytes] = {}

    def __contains__(self, trial_id: str) -> bool:
        return trial_id in self.live or trial_id in self.frozen

    def add(self, trial: Any) -> None:
        if trial.trial_id not in self:
            self.order.append(trial.trial_id)
        self.live[trial.trial_id] = trial

    def freeze(self, trial: Any) -> None:
        """An ended trial: from now on only its saved state is kept."""
        self.frozen[trial.trial_id] = zlib.compress(pickle.dumps(trial.get_json_state()))
        self.live.pop(trial.trial_id, None)

    def live_trials(self) -> list[Any]:
        return list(self.live.values())

    def states(self) -> list[tuple[str, str]]:
        """Every trial's (json state, run metadata), as Tune saves them, in order."""
        return [self.live[i].get_json_state() if i in self.live else _thaw_state(self.frozen[i]) for i in self.order]

    def trials(self) -> list[Any]:
        """Every trial as a `Trial` (ended ones thawed; they are not kept)."""
        return [self.live[i] if i in self.live else thaw(_thaw_state(self.frozen[i])) for i in self.order]


def _thaw_state(blob: bytes) -> tuple[str, str]:
    state: tuple[str, str] = pickle.loads(zlib.decompress(blob))
    return state


def thaw(state: tuple[str, str]) -> Any:
    """A `Trial` from its saved state, as Tune restores one."""
    from ray.tune.experiment import Trial

    json_state, metadata = state
    trial = Trial.from_json_state(json_state)
    trial.restore_run_metadata(metadata)
    return trial
