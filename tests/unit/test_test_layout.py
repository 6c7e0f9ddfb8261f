"""The test tree has no `__init__.py` files, so pytest imports each test module by its base name:
two test files of the same name anywhere under tests/ stop the whole run at collection ("import
file mismatch"), even though each passes when its folder runs alone. Caught here, in the unit run."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_every_test_module_has_a_name_of_its_own():
    seen: dict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        seen[path.name].append(str(path.relative_to(TESTS)))
    clashes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not clashes, f"rename one of each (e.g. tests/integration/test_X_sweep.py): {clashes}"
