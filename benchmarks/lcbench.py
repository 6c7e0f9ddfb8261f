"""The LCBench surrogate of YAHPO Gym (Pfisterer et al., AutoML 2022; Apache-2.0), read with onnxruntime.

For an MLP configuration on one of 34 OpenML tasks, the ONNX model returns the curves the real runs
gave at each epoch 1-52: `time` (cumulative training seconds), `val_accuracy` (percent), and four
more. Inputs (checked against the session below): `x_cat` int32 [n, 1], the task's code from
`encoding.json`; `x_cont` float32 [n, 8] = [epoch, batch_size, learning_rate, momentum,
weight_decay, num_layers, max_units, max_dropout], raw values (the model scales them itself).
The data are never copied: the folder comes from `$AUTOLEARN_LCBENCH` or `--data`.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_DATA = os.environ.get("AUTOLEARN_LCBENCH", "/work/shared/data/yahpo_lcbench")
PARAMS = ("batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units", "max_dropout")
OUTPUTS = ("time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy", "test_cross_entropy",
           "test_balanced_accuracy")
EPOCHS = 52


@lru_cache(maxsize=2)
def session(data: str) -> Any:
    """One onnxruntime session per process (Ray reuses the worker, so a trial pays it once)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # 2 loaded cores: no thread pools
    sess = ort.InferenceSession(str(Path(data) / "model.onnx"), options, providers=["CPUExecutionProvider"])
    inputs = {i.name: (i.shape[1], i.type) for i in sess.get_inputs()}
    expected = {"x_cat": (1, "tensor(int32)"), "x_cont": (1 + len(PARAMS), "tensor(float)")}
    if inputs != expected:
        raise RuntimeError(f"unexpected surrogate inputs {inputs}; this reader expects {expected}")
    return sess


@lru_cache(maxsize=2)
def task_codes(data: str) -> dict[str, int]:
    return {k: int(v) for k, v in json.loads((Path(data) / "encoding.json").read_text())["OpenML_task_id"].items()
            if k != "#na#"}


def space_dict(data: str) -> dict[str, dict[str, Any]]:
    """autolearn's `space` for the 7 hyperparameters, ranges from `config_space.json`."""
    out = {}
    for hp in json.loads((Path(data) / "config_space.json").read_text())["hyperparameters"]:
        if hp["name"] in PARAMS:
            kind = "int" if hp["type"] == "uniform_int" else "float"
            low, high = (int(hp["lower"]), int(hp["upper"])) if kind == "int" else (
                float(f"{hp['lower']:.6g}"), float(f"{hp['upper']:.6g}"))
            out[hp["name"]] = {"type": kind, "low": low, "high": high, "log": bool(hp["log"])}
    return {name: out[name] for name in PARAMS}


def evaluate(data: str, task: str, rows: np.ndarray) -> np.ndarray:
    """Surrogate outputs for rows of x_cont ([epoch, *PARAMS]) on one task: [n, 6]."""
    x_cat = np.full((len(rows), 1), task_codes(data)[task], dtype=np.int32)
    out = session(data).run(None, {"x_cat": x_cat, "x_cont": np.asarray(rows, dtype=np.float32)})[0]
    return np.asarray(out)


def curve(data: str, task: str, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(val_accuracy, cumulative time) at epochs 1..52 of one config, in one call."""
    row = [float(config[p]) for p in PARAMS]
    out = evaluate(data, task, np.array([[e, *row] for e in range(1, EPOCHS + 1)]))
    return out[:, OUTPUTS.index("val_accuracy")], np.maximum.accumulate(out[:, OUTPUTS.index("time")])


def random_configs(data: str, n: int, seed: int) -> np.ndarray:
    """n uniform configs (log ranges uniform in log, ints rounded) as rows of PARAMS."""
    rng = np.random.default_rng(seed)
    cols = []
    for spec in space_dict(data).values():
        low, high = (np.log(spec["low"]), np.log(spec["high"])) if spec["log"] else (spec["low"], spec["high"])
        x = rng.uniform(low, high, n)
        x = np.exp(x) if spec["log"] else x
        cols.append(np.clip(np.round(x), spec["low"], spec["high"]) if spec["type"] == "int" else x)
    return np.stack(cols, axis=1)


def reference_best(data: str, task: str, n: int = 5000, seed: int = 0) -> float:
    """The best validation accuracy at epoch 52 among n random configs: what regret is measured to."""
    rows = random_configs(data, n, seed)
    out = evaluate(data, task, np.hstack([np.full((n, 1), EPOCHS), rows]))
    return float(out[:, OUTPUTS.index("val_accuracy")].max())
