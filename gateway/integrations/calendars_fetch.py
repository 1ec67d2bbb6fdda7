"""Fetching one ICS feed: conditional GET over http(s), or a file; bounded size and time.

A URL is asked with ``If-None-Match`` / ``If-Modified-Since`` from the last answer, so an
unchanged feed costs a ``304`` and no body; a file is read again only when its size or
modification time changed. At most ``max_bytes + 1`` bytes are read (more is refused by the
expansion), and every connect and read waits at most ``timeout_s``.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import dataclass

from gateway.errors import ReasonError

USER_AGENT = "gateway-calendars/1 (+room calendar poller)"


class FetchError(ReasonError):
    """The feed did not answer with a calendar: unreachable, timed out, an HTTP error."""


@dataclass(frozen=True, slots=True)
class Validators:
    """What the last answer said about its version: sent back to ask "changed since?"."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """A feed's answer: ``body`` None when it has not changed since ``validators``."""

    body: bytes | None
    validators: Validators


def fetch(url: str, seen: Validators, timeout_s: float, max_bytes: int) -> Fetched:
    """The feed at ``url`` (http(s) URL or file path); FetchError says why not."""
    if url.startswith(("http://", "https://")):
        return _http(url, seen, timeout_s, max_bytes)
    return _file(url, seen, max_bytes)


def _http(url: str, seen: Validators, timeout_s: float, max_bytes: int) -> Fetched:
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if seen.etag:
        headers["If-None-Match"] = seen.etag
    if seen.last_modified:
        headers["If-Modified-Since"] = seen.last_modified
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310 (http(s) only)
            body = resp.read(max_bytes + 1)
            got = Validators(resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
    except urllib.error.HTTPError as err:
        if err.code == 304:
            return Fetched(None, seen)
        raise FetchError(f"HTTP {err.code} {err.reason}") from err
    except urllib.error.URLError as err:
        raise FetchError(f"unreachable: {err.reason}") from err
    except TimeoutError as err:
        raise FetchError(f"no answer within {timeout_s:g} s") from err
    except (OSError, ValueError) as err:  # a reset connection, a malformed answer
        raise FetchError(f"{type(err).__name__}: {err}") from err
    return Fetched(body, got)


def _file(path: str, seen: Validators, max_bytes: int) -> Fetched:
    try:
        st = os.stat(path)
        version = Validators(f"{st.st_size}-{st.st_mtime_ns}", None)
        if version == seen:
            return Fetched(None, seen)
        with open(path, "rb") as f:
            return Fetched(f.read(max_bytes + 1), version)
    except OSError as err:
        raise FetchError(f"cannot read {path}: {err.strerror or err}") from err
