"""A real HTTP receiver for the webhook tests, run as its own process.

``python webhook_receiver.py PORT SECRET``: POSTs to ``/hook`` are answered by the current mode
-- ``ok`` (204, the delivery recorded), ``fail`` (500) or ``hang`` (no answer until the mode
changes, as a receiver that froze) -- and every request is logged. ``POST /_mode`` with a body
of ``ok``, ``fail`` or ``hang`` switches it; ``GET /_log`` returns what it saw as JSON. It
checks each delivery's ``X-Gateway-Signature`` itself, the way the documentation tells a
receiver to (docs/integrations/webhooks.md), so a wrong signature shows up as ``sig_ok`` false.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"mode": "ok"}
LOG: list[dict[str, object]] = []
LOCK = threading.Lock()
CHANGED = threading.Condition(LOCK)


def verify(secret: str, header: str, body: bytes, tolerance_s: float = 300) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    t, sig = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit() or abs(time.time() - int(t)) > tolerance_s:
        return False
    want = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, sig)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *_a: object) -> None:
        pass

    def _answer(self, code: int, body: bytes = b"") -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        with LOCK:
            data = json.dumps(LOG).encode()
        self._answer(200, data)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/_mode":
            with CHANGED:
                STATE["mode"] = body.decode().strip()
                CHANGED.notify_all()
            self._answer(204)
            return
        with CHANGED:
            mode = STATE["mode"]
            entry = {
                "id": self.headers.get("X-Gateway-Delivery"),
                "kind": self.headers.get("X-Gateway-Kind"),
                "sig_ok": verify(SECRET, self.headers.get("X-Gateway-Signature", ""), body),
                "mode": mode,
                "body": body.decode(),
                "at": time.time(),
            }
            LOG.append(entry)
            while STATE["mode"] == "hang":
                CHANGED.wait(timeout=1)
        if mode == "hang":
            return  # the sender gave up long ago; the connection is closed unanswered
        self._answer(204 if mode == "ok" else 500)


if __name__ == "__main__":
    port, SECRET = int(sys.argv[1]), sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()
