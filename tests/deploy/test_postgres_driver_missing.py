"""A PostgreSQL URL without the driver installed says what to install, not a traceback."""

from __future__ import annotations

import sys

import pytest

from gateway.errors import ConfigError
from gateway.store import create_db_engine


def test_missing_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "psycopg" or m.startswith("psycopg.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ModuleNotFoundError
    with pytest.raises(ConfigError, match=r"pip install 'gateway\[postgres\]'"):
        create_db_engine("postgresql://postgres@127.0.0.1:5432/test")
