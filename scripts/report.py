#!/usr/bin/env python
"""Write a sweep's report: `python scripts/report.py EXPERIMENT_DIR [--out DIR]` (= `autolearn report`)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autolearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["report", *sys.argv[1:]]))
