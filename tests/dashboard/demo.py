"""The real ``gateway demo`` as a child process, Chromium to look at its dashboard, and what the
dashboard shows: one helper for the demo's browser test (tests/dashboard/test_demo_browser.py)
and the screenshot script (docs/gen_screenshot.py), so both see the demo a new user sees."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import free_port, wait_for

CHROMIUM = os.environ.get("GATEWAY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MINUTES = 3  # issue 20: all of SHOWS within three minutes of `make demo`

# What the product is for, as the dashboard shows it: each a JavaScript expression on the page.
SHOWS = {
    "idle spaces with 'idle for'": "[...document.querySelectorAll('.tile[data-look=\"idle\"]')]"
    ".some(t => t.textContent.includes('idle for'))",
    "a released ghost booking": "document.querySelectorAll("
    "'#free li[data-booking]:not([data-outcome])').length > 0",
    "a filled heatmap": "[...document.querySelectorAll('#heatmap td.cell[data-pct]')]"
    ".some(td => Number(td.dataset.pct) > 0)",
    "a recommendation with its figures": "[...document.querySelectorAll('#recs li[data-kind]')]"
    ".some(li => /\\d/.test(li.querySelector('.meta')?.textContent ?? ''))",
    "an open alert": "!document.getElementById('alerts').closest('section').hidden"
    " && document.querySelectorAll('#alerts li.alert').length > 0",
    "a work order": "!document.getElementById('orders').closest('section').hidden"
    " && document.querySelectorAll('#orders li[data-order]').length > 0",
}


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless, as the dashboard tests drive it."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def sign_in(page: Any, url: str, token: str) -> None:
    page.goto(url)
    page.wait_for_selector("#login", state="visible")
    page.fill("#token", token)
    page.click("#login button")


def shown(page: Any) -> dict[str, bool]:
    """Each of SHOWS: is it on the page now."""
    return {name: bool(page.evaluate(expr)) for name, expr in SHOWS.items()}


class Demo:
    """``gateway demo`` in ``workdir`` (its own store there, .gateway/demo.db), on a free API
    port and its own embedded broker on another, at whatever the wall clock says."""

    TOKEN = "demo-dashboard-token-0123456789"

    def __init__(self, workdir: Path, *args: str) -> None:
        self.workdir = workdir
        self.args = args
        self.port = free_port()
        broker = free_port()
        self.env = {
            **os.environ,
            "GATEWAY_API__PORT": str(self.port),
            "GATEWAY_MQTT__URL": f"mqtt://127.0.0.1:{broker}",
            "GATEWAY_MQTT__EMBEDDED": "true",  # as on a fresh machine: nothing answers there
            "GATEWAY_MQTT__CLIENT_ID": f"gateway-demo-{self.port}",
            "GATEWAY_ADMIN_TOKEN": self.TOKEN,
        }
        self.log_path = workdir / "demo.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = MINUTES * 60) -> Demo:
        """Start it and wait until it says it is up (after its backfill), as `make demo` does."""
        gateway = Path(sys.executable).with_name("gateway")  # the console script of this venv
        cmd = [str(gateway)] if gateway.exists() else [sys.executable, "-m", "gateway.cli"]
        self.started_at = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [*cmd, "demo", *self.args],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for(self._up, timeout=timeout, interval=0.25)
        except AssertionError as err:
            raise AssertionError(
                f"gateway demo not up within {timeout:.0f} s: {self.log()[-3000:]}"
            ) from err
        return self

    def _up(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(
                f"gateway demo exited with {self.proc.returncode}: {self.log()[-3000:]}"
            )
        return "gateway is up:" in self.log()

    def get(self, path: str) -> Any:
        """An API answer, with the demo's admin token."""
        auth = {"Authorization": f"Bearer {self.TOKEN}"}
        r = httpx.get(f"http://127.0.0.1:{self.port}{path}", headers=auth, timeout=10)
        r.raise_for_status()
        return r.json()

    def elapsed(self) -> float:
        """Wall seconds since the demo was started."""
        return time.monotonic() - self.started_at

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def wait_until_shown(page: Any, demo: Demo, minutes: float = MINUTES) -> dict[str, bool]:
    """Poll the page until all of SHOWS are on it or ``minutes`` after the demo's start have
    passed; what shows at the end."""
    seen = shown(page)
    while not all(seen.values()) and demo.elapsed() < minutes * 60:
        time.sleep(1.0)
        seen = shown(page)
    return seen
