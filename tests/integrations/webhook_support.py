"""The webhook tests' receiver process and a site whose webhook sender is driven by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import free_port, wait_for

RECEIVER = Path(__file__).resolve().parent / "webhook_receiver.py"
SECRET = "receiver-secret-0123456789abcdef"


class Receiver:
    """``webhook_receiver.py`` on a free port: ``mode`` switches it, ``log`` reads it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.proc = subprocess.Popen(
            [sys.executable, str(RECEIVER), str(self.port), SECRET], stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == b"ready"
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=5)

    def mode(self, mode: str) -> None:
        assert self.http.post("/_mode", content=mode).status_code == 204

    def log(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.http.get("/_log").json()
        return entries

    def accepted(self) -> list[str]:
        """Delivery ids answered 2xx, in arrival order (a repeat would show twice)."""
        return [e["id"] for e in self.log() if e["mode"] == "ok"]

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(e["body"]) for e in self.log() if e["mode"] == "ok"]

    def stop(self) -> None:
        self.http.close()
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def wait_accepted(r: Receiver, n: int, timeout: float = 20.0) -> list[str]:
    wait_for(lambda: len(r.accepted()) >= n, timeout=timeout)
    return r.accepted()
