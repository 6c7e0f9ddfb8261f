"""`search.fuse: auto` on a CPU fuses only where the training it saves outweighs the member processes."""
from __future__ import annotations

import logging

from autolearn.execution.fusion.plan import _worth_it_on_cpu


def test_short_configs_train_one_by_one_and_auto_says_why(caplog):
    # The seed task: ~0.1 s per config; 100 configs save ~4.4 s fused, 14 extra members cost ~21 s.
    with caplog.at_level(logging.WARNING):
        assert _worth_it_on_cpu(8, slots=2, configs=100, train_s=0.1) == 1
    assert "one by one" in caplog.text


def test_many_or_long_configs_fuse_up_to_the_k_asked():
    assert _worth_it_on_cpu(8, slots=2, configs=1000, train_s=0.1) == 8
    assert _worth_it_on_cpu(32, slots=2, configs=100, train_s=5.0) == 32


def test_k_shrinks_to_what_the_saving_affords():
    # 200 configs × 0.1 s save ~8.9 s: 1 + 8.9 / (1.5 s × 2 slots) = 3 members, narrower than 4: none.
    assert _worth_it_on_cpu(8, slots=2, configs=200, train_s=0.1) == 1
    # 400 configs save ~17.8 s: K = 1 + 5 = 6.
    assert _worth_it_on_cpu(8, slots=2, configs=400, train_s=0.1) == 6
