#!/usr/bin/env python
"""Run a sweep: `python scripts/sweep.py [SPEC.yaml] [--options]` (the same as `autolearn sweep`).

On a Ray cluster's head node, `--address auto` joins that cluster; `ray submit cluster/gpu.yaml
scripts/sweep.py -- SPEC.yaml --address auto` runs this file there (README: "Run on a cluster").
"""
import sys
from pathlib import Path

# Import autolearn from this checkout when run from one; otherwise (a copy, as `ray submit` makes
# in the head node's home, next to the synced ~/autolearn folder) from the installed package, and
# never from the script's own folder, where `autolearn/` would be the repository, not the package.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:1] = [str(ROOT)] if (ROOT / "autolearn" / "__init__.py").is_file() else []

from autolearn.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["sweep", *sys.argv[1:]]))
