"""API latency per route template, measured to each response's first byte."""

from __future__ import annotations

import time

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def route_template(scope: Scope) -> str:
    """The matched route's path with its parameters as ``{name}``; ``unmatched`` when none.

    Rebuilt from the path and its parameters, since an included router's route object does
    not carry the prefixes it was included under.
    """
    if scope.get("route") is None:
        mount = scope.get("root_path", "")
        if scope.get("endpoint") is not None and mount != scope.get("app_root_path", ""):
            return f"{mount}/{{path}}"  # a mounted app (the static files)
        return "unmatched"
    path: str = scope.get("path", "")
    params = scope.get("path_params") or {}
    for name, value in sorted(params.items(), key=lambda kv: -len(str(kv[1]))):
        v = str(value)
        if v and path.endswith("/" + v):
            path = path[: -len(v)] + "{" + name + "}"
        elif v:
            path = path.replace("/" + v + "/", "/{" + name + "}/", 1)
    return path


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_TEMPLATES = 500  # far above the route table; a hard bound should a template ever leak


class LatencyMiddleware:
    """Times each HTTP request to its first response byte, labelled by route template.

    Measured at response start, so a long-lived stream counts its set-up, not its lifetime.
    Every label is bounded, so unauthenticated scanners cannot grow the series: paths that
    match no route share one label, a method outside HTTP's usual ones is ``other``, and
    beyond ``MAX_TEMPLATES`` distinct routes any new one is counted as ``other`` too.
    """

    def __init__(self, app: ASGIApp, hist: Histogram) -> None:
        self.app = app
        self.hist = hist
        self.templates: set[str] = set()

    def labels(self, scope: Scope, status: int) -> tuple[str, str, str]:
        """(route, method, status) of one request, each from a bounded set."""
        template = route_template(scope)
        if template not in self.templates:
            if len(self.templates) >= MAX_TEMPLATES:
                template = "other"
            else:
                self.templates.add(template)
        method = str(scope.get("method", ""))
        code = status if 100 <= status <= 599 else 0
        return template, method if method in METHODS else "other", str(code)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        done = False

        def observe(status: int) -> None:
            nonlocal done
            if done:
                return
            done = True
            self.hist.labels(*self.labels(scope, status)).observe(time.perf_counter() - t0)

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                observe(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        except Exception:
            observe(500)
            raise
