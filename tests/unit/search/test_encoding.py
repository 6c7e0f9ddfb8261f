"""Contract tests of the one space encoding (`autolearn/search/encoding.py`), over every parameter
type: values round-trip, any point of the unit cube decodes to a valid config, log lines are
monotone, one-hot picks the choice; and `gp` reads it without loading anything of `tpe`."""
from __future__ import annotations

import ast
import math
import random
from pathlib import Path
from typing import Any

import pytest

import autolearn
from autolearn.config.space import SearchSpace
from autolearn.search.encoding import Dimension, SpaceEncoding, dimension

PARAMS = {
    "float": {"type": "float", "low": -1.5, "high": 2.0},
    "log_float": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "step_float": {"type": "float", "low": 0.1, "high": 0.55, "step": 0.1},  # top of the grid: 0.5
    "int": {"type": "int", "low": 1, "high": 6},
    "log_int": {"type": "int", "low": 1, "high": 256, "log": True},
    "step_int": {"type": "int", "low": 1, "high": 9, "step": 2},
    "choice": {"type": "choice", "values": ["adam", 3, 0.5, True, 1]},
    "grid": {"type": "grid", "values": [8, 16]},
}
SPACE = SearchSpace.from_dict(PARAMS)
PLAIN = (int, float, str, bool)


def _dim(kind: str, **kwargs: Any) -> Dimension:
    return dimension(kind, SPACE[kind], **kwargs)


def _samples(kind: str) -> list[Any]:
    """Every value of a finite parameter; the bounds and a few inner points of a range."""
    param = SPACE[kind]
    values = param.grid_values()
    if values is not None:
        return values
    low, high = param.low, param.high  # type: ignore[attr-defined]
    if getattr(param, "log", False):
        return [low, high] + [low * (high / low) ** t for t in (0.1, 0.5, 0.9)]
    return [low, high] + [low + (high - low) * t for t in (0.1, 0.5, 0.9)]


def _same(a: Any, b: Any, kind: str) -> bool:
    """Exactly equal with the same type; continuous floats up to rounding of exp(log(x))."""
    if type(a) is not type(b):
        return False
    return math.isclose(a, b, rel_tol=1e-12) if kind in ("float", "log_float") else a == b


@pytest.mark.parametrize("half_step", [True, False])
@pytest.mark.parametrize("kind", sorted(PARAMS))
def test_values_round_trip_through_the_line_the_unit_interval_and_one_hot(kind: str, half_step: bool) -> None:
    d = _dim(kind, half_step=half_step)
    for value in _samples(kind):
        assert d.encodable(value)
        for back in (d.from_internal(d.to_internal(value)), d.from_unit(d.to_unit(value)),
                     d.from_one_hot(d.one_hot(value)), d.nearest(value)):
            assert _same(back, value, kind), (kind, value, back)
            assert SPACE[kind].contains(back)


@pytest.mark.parametrize("kind", sorted(PARAMS))
def test_random_unit_points_decode_in_bounds_on_the_step_as_plain_values(kind: str) -> None:
    d, rng = _dim(kind), random.Random(0)
    points = [0.0, 1.0] + [rng.random() for _ in range(98)]
    decoded = [d.from_unit(u) for u in points]
    for value in decoded:
        assert type(value) in PLAIN and SPACE[kind].contains(value), (kind, value)
    if SPACE[kind].grid_values() is not None:  # bounds inclusive: both ends are reached
        values = SPACE[kind].grid_values() or []
        assert decoded[0] == values[0] and decoded[1] == values[-1]
        if kind != "log_int":  # 100 uniform draws cover every value of a small grid
            assert {repr(v) for v in decoded} == {repr(v) for v in values}


def test_random_points_of_the_whole_cube_decode_to_valid_configs() -> None:
    encoding, rng = SpaceEncoding(SPACE), random.Random(1)
    assert encoding.width == 6 + len(PARAMS["choice"]["values"]) + len(PARAMS["grid"]["values"])
    for _ in range(100):
        config = encoding.from_cube([rng.random() for _ in range(encoding.width)])
        assert list(config) == list(SPACE) and SPACE.contains(config)
        assert all(type(v) in PLAIN for v in config.values())
        again = encoding.from_cube(encoding.to_cube(config))
        assert all(_same(again[k], config[k], k) for k in config)
        assert encoding.decode(encoding.encode(config)) == again


@pytest.mark.parametrize("kind", ["log_float", "log_int"])
def test_log_lines_are_monotone_and_even_in_ratios(kind: str) -> None:
    d = _dim(kind, half_step=False)
    values = sorted(_samples(kind)) if kind == "log_float" else [1, 2, 4, 8, 16, 32, 64, 128, 256]
    units = [d.to_unit(v) for v in values]
    assert units == sorted(units) and len(set(units)) == len(units)
    assert units[0] == 0.0 and units[-1] == 1.0
    if kind == "log_int":  # each doubling is the same distance
        gaps = [b - a for a, b in zip(units, units[1:])]
        assert max(gaps) - min(gaps) < 1e-12
    grid = [i / 200 for i in range(201)]
    decoded = [d.from_unit(u) for u in grid]
    assert decoded == sorted(decoded)


def test_one_hot_argmax_picks_the_choice_and_tells_true_from_one() -> None:
    d = _dim("choice")
    values = PARAMS["choice"]["values"]
    for i, value in enumerate(values):
        columns = d.one_hot(value)
        assert columns == [1.0 if j == i else 0.0 for j in range(len(values))]
        noisy = [0.3] * len(values)
        noisy[i] = 0.31
        picked = d.from_one_hot(noisy)
        assert picked == value and type(picked) is type(value)
    assert d.to_internal(True) == 3 and d.to_internal(1) == 4


def test_integer_lines_give_both_ends_a_full_share() -> None:
    d = _dim("int")  # 1..6 over [0.5, 6.5]: each value gets a sixth of the unit interval
    counts = {v: 0 for v in range(1, 7)}
    for i in range(600):
        counts[d.from_unit((i + 0.5) / 600)] += 1
    assert set(counts.values()) == {100}
    assert _dim("int", half_step=False).to_unit(1) == 0.0 and _dim("int", half_step=False).to_unit(6) == 1.0


def test_constants_are_not_searched_and_are_filled_in() -> None:
    space = SearchSpace.from_dict({"x": {"type": "float", "low": 0.0, "high": 1.0},
                                   "one": {"type": "choice", "values": ["only"]},
                                   "same": {"type": "float", "low": 2.5, "high": 2.5},
                                   "k": {"type": "int", "low": 4, "high": 4}})
    encoding = SpaceEncoding(space)
    assert list(encoding.searched) == ["x"] and encoding.width == 1
    config = encoding.from_cube([0.25])
    assert config == {"x": 0.25, "one": "only", "same": 2.5, "k": 4} and type(config["k"]) is int


def test_values_outside_a_choice_are_not_encodable() -> None:
    d = _dim("choice")
    assert not d.encodable("sgd") and not _dim("log_float").encodable(0.0)
    with pytest.raises(ValueError, match="'sgd' is not one of the values of 'choice'"):
        d.to_internal("sgd")


# --- gp reads the encoding, never the TPE module ----------------------------------------------

ROOT = Path(autolearn.__file__).resolve().parent


def _imports(module: str, *, nested: bool) -> set[str]:
    """Modules `module` imports (at module level, or anywhere when `nested`), from its source."""
    path = ROOT.joinpath(*module.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text())
    nodes = ast.walk(tree) if nested else iter(tree.body)
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _loaded_by(module: str) -> set[str]:
    """Every module importing `module` loads: its own imports anywhere, then module-level imports of
    the autolearn modules and packages that it pulls in, transitively."""
    todo, seen = [(module, True)], set()
    while todo:
        name, nested = todo.pop()
        if name in seen or not (ROOT.joinpath(*name.split(".")[1:]).with_suffix(".py").exists()
                                or ROOT.joinpath(*name.split(".")[1:], "__init__.py").exists()):
            seen.add(name)
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [(".".join(parts[:i]), False) for i in range(1, len(parts))]
        todo += [(m, False) for m in _imports(name, nested=nested) if m.startswith("autolearn")]
        seen |= {m for m in _imports(name, nested=nested) if not m.startswith("autolearn")}
    return seen


@pytest.mark.parametrize("module", ["autolearn.search.strategies.gp", "autolearn.search.strategies.gp_searcher"])
def test_choosing_gp_never_loads_hyperopt(module: str) -> None:
    loaded = _loaded_by(module)
    assert "autolearn.search.encoding" in loaded or module.endswith(".gp")
    assert "autolearn.search.strategies.tpe" in loaded  # the registry's light TPE strategy, as a check
    assert not [m for m in loaded if m.split(".")[0] == "hyperopt" or m.endswith("tpe_searcher")], loaded
