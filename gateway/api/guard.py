"""HTTP guard middleware: authentication before any body is read, a body-size limit, headers.

FastAPI reads and parses a request's body before it runs the route's dependencies, so the
token check in ``deps`` alone would let an anonymous caller make the gateway read and parse a
body of any size. This middleware answers first: a request that carries a body to an API
route needs a valid bearer token (401 otherwise, whatever the body), and no body may be longer
than ``api.max_body_bytes`` (413), by its ``Content-Length`` and by counting a streamed body.
Every response also gets the browser-hardening headers; the dashboard and the API allow only
their own origin's scripts, the API docs pages also the CDN FastAPI loads Swagger UI from.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from anyio import to_thread
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.access.roles import Principal

Authenticate = Callable[[str], Principal | None]

BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
# no bearer token: health, and booking platforms (their requests carry an HMAC signature)
PUBLIC = frozenset({"/api/v1/health", "/api/v1/integrations/bookings"})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Swagger UI and ReDoc as FastAPI serves them: an inline bootstrap script and a CDN.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
DOCS = ("/docs", "/redoc")
COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit (answered 413)."""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return bytes(v)
    return None


def _bearer(scope: Scope) -> str | None:
    raw = _header(scope, b"authorization")
    if raw is None:
        return None
    scheme, _, token = raw.decode("latin-1").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def _answer(send: Send, status: int, detail: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class HttpGuard:
    """Pure ASGI middleware (no body buffering): auth before parsing, size limit, headers."""

    def __init__(self, app: ASGIApp, authenticate: Authenticate, max_body_bytes: int) -> None:
        self.app = app
        self.authenticate = authenticate
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = DOCS_CSP if path.startswith(DOCS) else CSP
        hardening = [*COMMON_HEADERS, (b"content-security-policy", csp.encode())]
        refusal = await self._refusal(scope, path)
        if refusal is not None:
            status, detail, extra = refusal
            await _answer(send, status, detail, [*extra, *hardening])
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", ())}
                added = [(k, v) for k, v in hardening if k not in names]
                message = {**message, "headers": [*message.get("headers", ()), *added]}
            await send(message)

        await self.app(scope, self._counted(receive), with_headers)

    async def _refusal(
        self, scope: Scope, path: str
    ) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        """(status, detail, headers) when the request is answered before its body is read."""
        if scope["method"] not in BODYLESS and path.startswith("/api/") and path not in PUBLIC:
            token = _bearer(scope)
            principal = None
            if token is not None:  # the lookup may touch the store: off the event loop
                principal = await to_thread.run_sync(self.authenticate, token)
            if principal is None:
                detail = "missing bearer token" if token is None else "invalid token"
                return 401, detail, [(b"www-authenticate", b"Bearer")]
        length = _header(scope, b"content-length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                return 400, "Content-Length is not a number", []
            if n > self.max_body_bytes:
                return 413, self._too_large(), []
        return None

    def _too_large(self) -> str:
        return f"request body over the limit of {self.max_body_bytes} bytes (api.max_body_bytes)"

    def _counted(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise BodyTooLarge(413, self._too_large())
            return message

        return counted
