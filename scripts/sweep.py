#!/usr/bin/env python
"""Run a sweep: `python scripts/sweep.py [SPEC.yaml] [--options]` (the same as `autolearn sweep`)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autolearn.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["sweep", *sys.argv[1:]]))
