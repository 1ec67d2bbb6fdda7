"""A real HTTP server process serving ICS files the way calendar hosts do: ETag,
Last-Modified, 304 to a conditional GET, 404 for a file that is gone; ``/hang/...`` never
answers. Each request is logged to a file as JSON (path, status, the validators it sent).

Run: ``python -m tests.integrations.calendar_server DIR PORT LOG``; the tests start it with
``CalendarServer(dir).start()``.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support import ROOT, free_port, wait_for


class CalendarServer:
    """The server process and where it serves from."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.log = root.parent / f"requests-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def start(self) -> CalendarServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integrations.calendar_server",
             str(self.root), str(self.port), str(self.log)],
            cwd=ROOT,
        )  # fmt: skip
        wait_for(self.log.exists, timeout=10)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


class _Handler(BaseHTTPRequestHandler):
    root: Path
    log_path: Path

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        sent = {
            "inm": self.headers.get("If-None-Match"),
            "ims": self.headers.get("If-Modified-Since"),
        }
        if self.path.startswith("/hang/"):
            self._log(0, sent)
            time.sleep(3600)
            return
        f = self.root / self.path.lstrip("/")
        if not f.is_file():
            self._answer(404, b"not found", sent)
            return
        body = f.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(int(f.stat().st_mtime), usegmt=True)
        if sent["inm"] == etag:
            self._answer(304, b"", sent, etag, modified)
            return
        self._answer(200, body, sent, etag, modified)

    def _answer(
        self, code: int, body: bytes, sent: dict[str, Any], etag: str = "", modified: str = ""
    ) -> None:
        self._log(code, sent)  # before answering: a test reads the log once it has the answer
        self.send_response(code)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
        self.send_header("Content-Length", str(len(body)) if code != 304 else "0")
        self.end_headers()
        if code != 304:
            self.wfile.write(body)

    def _log(self, code: int, sent: dict[str, Any]) -> None:
        with self.log_path.open("a") as f:
            f.write(json.dumps({"path": self.path, "status": code, **sent}) + "\n")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def main() -> None:
    root, port, log = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    _Handler.root, _Handler.log_path = root, log
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.daemon_threads = True
    log.touch()
    server.serve_forever()


if __name__ == "__main__":
    main()
