"""Shared fixtures: a real broker process per test module, temporary folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends import db_url, empty_db_url, pg_url  # noqa: F401  (sqlite, postgresql)
from tests.support import Broker


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    b = Broker(tmp_path_factory.mktemp("broker")).start()
    yield b
    b.stop()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
