"""The composition root: builds the gateway's parts in order, wires them, starts and stops them.

Only the entry point (``gateway/cli.py``) and the tests import this package.
"""

from gateway.runtime.build import Gateway
from gateway.runtime.gctune import tune_gc

__all__ = ["Gateway", "tune_gc"]
