"""Ray's `ConcurrencyLimiter`, made to survive a resume (see `base.limit_concurrency`)."""
from __future__ import annotations

import os
import pickle

from ray.tune.search import ConcurrencyLimiter


class StatefulConcurrencyLimiter(ConcurrencyLimiter):
    """Saves which trials are live along with the wrapped searcher, in the one file Ray expects."""

    def save(self, checkpoint_path: str) -> None:
        inner = f"{checkpoint_path}.searcher"
        self.searcher.save(inner)
        try:
            with open(inner, "rb") as f:
                searcher_bytes = f.read()
        finally:
            os.remove(inner)
        with open(checkpoint_path, "wb") as f:
            pickle.dump({"limiter": self.get_state(), "searcher": searcher_bytes}, f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            state = pickle.load(f)
        inner = f"{checkpoint_path}.searcher"
        with open(inner, "wb") as f:
            f.write(state["searcher"])
        try:
            self.searcher.restore(inner)
        finally:
            os.remove(inner)
        self.set_state(state["limiter"])
