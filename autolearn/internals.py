"""Every private part of Ray, hyperopt and bayes_opt that autolearn touches, in one place.

A library upgrade that moves one of these breaks here, and `tests/unit/test_internals.py` has
one test per access that fails loudly naming it. Nothing else in the package may read a private
attribute of these libraries. The environment variables autolearn sets are here too.
"""
from __future__ import annotations

# --- Ray (execution) ---------------------------------------------------------------------------

# --- hyperopt and bayes_opt (search) -------------------------------------------------------------
