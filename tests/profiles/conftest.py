"""Shared helpers for the profile tests: the shipped profiles directory and a profile writer."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.profiles import ProfileRegistry

ROOT = Path(__file__).resolve().parents[2]
PROFILES_DIR = ROOT / "device_profiles"
FIXTURES_DIR = ROOT / "tests" / "fixtures"

WriteProfile = Callable[[str, str], Path]


@pytest.fixture(scope="session")
def shipped() -> ProfileRegistry:
    return ProfileRegistry.load(PROFILES_DIR)


@pytest.fixture
def write_profile(tmp_path: Path) -> WriteProfile:
    """Write ``device_profiles/<name>.yaml`` under tmp_path from dedented YAML text."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
