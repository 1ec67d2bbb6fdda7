"""The documentation: the configuration page is the one the settings model gives, the README
stays a short front page whose links lead to pages that exist, and the site builds strictly."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_MAX_BYTES = 10_240


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_configuration", ROOT / "docs" / "gen_configuration.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configuration_page_is_generated_from_the_settings_model() -> None:
    gen = _generator()
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == gen.render(), "docs/configuration.md is stale: run `make docs`"


def test_configuration_page_names_every_setting() -> None:
    from pydantic import BaseModel

    from gateway.settings import Settings

    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")

    def names(model: type[BaseModel], prefix: str) -> list[str]:
        out = []
        for name, info in model.model_fields.items():
            var = f"{prefix}{name.upper()}"
            ann = info.annotation
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                out += names(ann, f"{var}__")
                if prefix != "GATEWAY_":
                    out.append(var)
            else:
                out.append(var)
        return out

    missing = [v for v in names(Settings, "GATEWAY_") if f"| `{v}` |" not in page]
    assert not missing


def test_readme_is_short() -> None:
    assert len(README.read_bytes()) <= README_MAX_BYTES


def test_readme_cites_nothing_outside_the_repository() -> None:
    assert "SPEC section" not in README.read_text(encoding="utf-8")


def test_readme_links_lead_to_existing_files() -> None:
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if "://" not in link]
    assert local, "the README should point into docs/"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing


# `gateway/x.py`, `tests/...`, `bench/...` and the like, optionally `::name` of a def or class
CODE_PATH = re.compile(
    r"`((?:gateway|tests|bench|deploy|device_profiles|examples)/[A-Za-z0-9_./-]*)(?:::(\w+))?`"
)


def test_paths_the_docs_name_exist() -> None:
    pages = [README, *sorted((ROOT / "docs").rglob("*.md"))]
    wrong = []
    for page in pages:
        for m in CODE_PATH.finditer(page.read_text(encoding="utf-8")):
            path, name = ROOT / m.group(1).rstrip("/"), m.group(2)
            if not path.exists():
                wrong.append(f"{page.relative_to(ROOT)}: {m.group(1)}")
            elif name and not re.search(rf"^\s*(?:def|class) {name}\b", path.read_text(), re.M):
                wrong.append(f"{page.relative_to(ROOT)}: {m.group(1)}::{name}")
    assert not wrong, "docs name paths that do not exist (moved?): " + ", ".join(wrong)


@pytest.mark.skipif(
    shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None,
    reason="mkdocs is not installed in this environment (the dev extra)",
)
def test_site_builds_strictly(tmp_path: Path) -> None:
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    assert mkdocs
    done = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
