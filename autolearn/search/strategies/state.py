"""Saving and restoring our own Ray `Searcher`s whole.

Ray saves a searcher with the experiment state and calls `restore` on `--resume`. Ours keep
everything that decides their next suggestion in the instance (observations, models, the RNG),
so pickling the instance's `__dict__` whole is what lets a restored searcher suggest exactly what
an uninterrupted one would (the save/restore tests of each strategy check it).
"""
from __future__ import annotations

import pickle


class PickledState:
    """Mixin placed before `Searcher` in the bases: `save`/`restore` of the whole instance state
    (cloudpickled: a searcher may hold other searchers, or functions, that plain pickle refuses)."""

    def save(self, checkpoint_path: str) -> None:
        import cloudpickle

        with open(checkpoint_path, "wb") as f:
            cloudpickle.dump(self.__dict__, f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            self.__dict__.update(pickle.load(f))


__all__ = ["PickledState"]
