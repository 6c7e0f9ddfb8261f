"""The cost metrics the built-in trainable reports beside its scores (`training/costs.py`)."""
from __future__ import annotations

import math

import torch
from torch import nn

from autolearn.training.costs import latency_ms, model_costs, parameter_count


def test_parameter_count_counts_weights_and_biases():
    assert parameter_count(nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))) == 3 * 2 + 2 + 2 + 1


def test_latency_is_per_example_positive_and_leaves_the_mode_as_it_was():
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.5), nn.Linear(16, 2))
    model.train()
    value = latency_ms(model, torch.randn(32, 8))
    assert value > 0 and math.isfinite(value) and model.training
    model.eval()
    latency_ms(model, torch.randn(32, 8))
    assert not model.training


def test_an_empty_batch_has_no_latency():
    assert math.isnan(latency_ms(nn.Linear(2, 2), torch.empty(0, 2)))


def test_model_costs_reports_both():
    costs = model_costs(nn.Linear(4, 3), torch.randn(10, 4))
    assert set(costs) == {"n_params", "latency_ms"} and costs["n_params"] == 15
