"""What ships is pinned: constraints.txt holds the exact versions the suite passes with, every
install path uses it, and pyproject.toml's lower bounds are versions that were tested."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support import ROOT


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, sep, ver = line.partition("==")
        assert sep and re.fullmatch(r"[A-Za-z0-9_.-]+", name), f"not an exact pin: {line}"
        key = canonicalize_name(name)
        assert key not in pins, f"pinned twice: {name}"
        pins[key] = Version(ver)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in [*project["dependencies"], *extras["postgres"], *extras["dev"]]]


def test_constraints_pin_every_dependency_within_its_range_and_not_the_project() -> None:
    pins = _pins()
    assert "gateway" not in pins
    for req in _requirements():
        key = canonicalize_name(req.name)
        assert key in pins, f"{req.name} is not pinned in constraints.txt"
        assert req.specifier.contains(pins[key]), f"{req}: pinned {pins[key]} is outside it"


def test_lower_bounds_are_the_tested_major_minor() -> None:
    pins = _pins()
    for req in _requirements():
        tested = pins[canonicalize_name(req.name)]
        lows = [Version(s.version) for s in req.specifier if s.operator == ">="]
        assert lows, f"{req}: no lower bound"
        assert lows[0] >= Version(f"{tested.major}.{tested.minor}"), (
            f"{req}: lower bound older than the tested {tested}"
        )


def test_every_install_path_uses_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install -q -c constraints\.txt -e '\.\[dev\]'", makefile)
    assert re.search(r"^\$\(VENV\)/\.installed: .*constraints\.txt", makefile, re.M)
    assert re.search(r"^make setup$", (ROOT / ".ci" / "run").read_text(), re.M)
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert re.search(r"^COPY .*constraints\.txt", dockerfile, re.M)
    assert re.search(r"^RUN pip install -c constraints\.txt ", dockerfile, re.M)


def test_this_environment_runs_the_pinned_versions() -> None:
    """A package moved in the venv without `make lock` would make the pins lie."""
    moved = {}
    for key, pinned in _pins().items():
        try:
            have = Version(version(key))
        except PackageNotFoundError:
            continue
        if have != pinned:
            moved[key] = f"{have} installed, {pinned} pinned"
    assert not moved, moved
