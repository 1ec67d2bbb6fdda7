"""The webhook sender: a supervised thread POSTing the outbox's rows, oldest first.

Each pass hands every active subscription to one of ``WORKERS`` threads, which sends its
oldest pending rows in order until one fails (a receiver that hangs holds up only its own
subscription); a failed row is retried after an exponential backoff with jitter
(``gateway.integrations.outbox.backoff_s``) and nothing behind it overtakes it. A 2xx answer
is a delivery; anything else -- another status, a refused connection, a receiver that does not
answer within ``webhooks.timeout_s`` -- is a counted failure with its reason kept on the row.
After ``webhooks.pause_after`` failures in a row the subscription is paused and an alert
raised; its rows wait, kept, until it is resumed.

**Signature.** Every request carries ``X-Gateway-Signature: t=<unix seconds>,v1=<hex>``
where ``<hex>`` is HMAC-SHA256 of ``"<t>.<body>"`` under the subscription's secret, signed
at each attempt (so a receiver may refuse an old ``t``), ``X-Gateway-Delivery`` (the id, the
same over retries: a receiver drops one it has seen) and ``X-Gateway-Kind``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gateway.integrations.outbox import Outbox
from gateway.integrations.webhooks_subscriptions import Subscriptions
from gateway.supervisor import Loop
from gateway.webhook_settings import WebhookSettings

log = logging.getLogger(__name__)

IDLE_WAIT_S = 1.0  # longest sleep between passes when nothing was due
PRUNE_EVERY_S = 600.0
USER_AGENT = "gateway-webhooks/1"
# 2xx answers are marked delivered together, this many or this long apart: one commit (an
# fsync on SQLite) per run instead of per row. A gateway killed in between sends those again,
# with the same delivery ids, which is what the ids are for.
MARK_EVERY = 20
MARK_EVERY_S = 0.2
WORKERS = 4  # subscriptions sent to at once: a receiver that hangs holds up only its own


def signature(secret: str, t: int, body: bytes) -> str:
    """The ``X-Gateway-Signature`` value of ``body`` signed at ``t``."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to report, not to follow with the body dropped."""

    def redirect_request(self, *_args: Any, **_kw: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    """POST ``body``; the HTTP status (raises OSError for no answer at all)."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(req, timeout=timeout_s) as resp:
            resp.read(1024)  # a little of the answer; the rest is not ours to wait for
            return int(resp.status)
    except urllib.error.HTTPError as err:
        err.close()
        return int(err.code)


class Sender:
    """Drains the outbox to the subscriptions' receivers."""

    def __init__(
        self,
        outbox: Outbox,
        subs: Subscriptions,
        settings: WebhookSettings,
        *,
        on_pause: Callable[[dict[str, Any], str], None],
        clock: Callable[[], float] = time.time,
        periodic: Callable[[float], None] | None = None,
    ) -> None:
        self.outbox, self.subs, self.settings = outbox, subs, settings
        self.on_pause, self.clock, self.periodic = on_pause, clock, periodic
        self.loop = Loop("webhooks", time.time)  # the gateway hands its supervisor's record
        self.stop_event = threading.Event()
        self.attempts = 0  # since start, for /metrics
        self.timeouts = 0
        self.latency_s: list[float] = []  # created -> delivered of the last deliveries
        self._next_prune = 0.0
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="webhooks-send")
        self._busy: set[str] = set()  # subscriptions a worker is sending to now
        self._busy_lock = threading.Lock()

    def run(self) -> None:
        """The thread's body: passes until stopped; a failing pass is counted and retried."""
        while not self.stop_event.is_set():
            self.outbox.wake.clear()
            self.loop.run_pass(self.pass_once, False)
            self.outbox.wake.wait(IDLE_WAIT_S)  # woken early by a new row or a busy worker
        self._pool.shutdown(wait=False, cancel_futures=True)

    def pass_once(self, wait: bool = True) -> int:
        """Hand every active subscription no worker is on to a worker; with ``wait``, wait
        for them and return how many rows were delivered (the tests' synchronous pass)."""
        now = self.clock()
        if self.periodic is not None:
            self.periodic(now)
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_S
            self.outbox.prune(now)
        futures = []
        for sub in list(self.subs.active):
            with self._busy_lock:
                if sub["id"] in self._busy:
                    continue
                self._busy.add(sub["id"])
            futures.append(self._pool.submit(self._worker, sub))
        return sum(f.result() for f in futures) if wait else 0

    def _worker(self, sub: dict[str, Any]) -> int:
        try:
            done = self._send_some(sub)
        except Exception as err:  # counted on the loop; the next pass tries again
            self.loop.failed(err, f"sending to webhook {sub['id']}")
            return 0
        finally:
            with self._busy_lock:
                self._busy.discard(sub["id"])
        if done:
            self.outbox.wake.set()  # more may wait behind these: the next pass at once
        return done

    def _send_some(self, sub: dict[str, Any]) -> int:
        """Send the subscription's due rows in order until one fails; the 2xx ones are
        marked delivered together (at most ``MARK_EVERY`` or ``MARK_EVERY_S`` apart)."""
        ok: list[tuple[dict[str, Any], int, float]] = []
        failing, done, since = sub["failures_in_row"] > 0, 0, time.monotonic()
        for row in self.outbox.heads(sub["id"]):
            if row["next_at"] > self.clock() or self.stop_event.is_set():
                break
            status, error = self._attempt(sub, row)
            now = self.clock()
            if status is not None and 200 <= status < 300:
                ok.append((row, status, now))
                self.latency_s = [*self.latency_s[-999:], now - row["created_at"]]
                if len(ok) >= MARK_EVERY or time.monotonic() - since >= MARK_EVERY_S:
                    self.outbox.delivered(ok, failing)
                    done, failing, ok, since = done + len(ok), False, [], time.monotonic()
                continue
            self.outbox.delivered(ok, failing)
            done, ok = done + len(ok), []
            self._failed(sub, row, status, error, now)
            break
        self.outbox.delivered(ok, failing)
        return done + len(ok)

    def _failed(
        self, sub: dict[str, Any], row: dict[str, Any], status: int | None, error: str, now: float
    ) -> None:
        in_row, retry_at = self.outbox.failed(row, status, error, now)
        log.warning(
            "webhook %s: delivery %s failed (%s), attempt %d; retry in %.1f s",
            sub["id"],
            row["delivery_id"],
            error,
            row["attempts"] + 1,
            retry_at - now,
        )
        if in_row >= self.settings.pause_after:
            reason = f"{in_row} failed attempts in a row, the last: {error}"
            self.subs.pause(sub["id"], reason)
            self.on_pause(sub, reason)
        else:
            self.subs.refresh()  # its failures_in_row, for the next pass

    def _attempt(self, sub: dict[str, Any], row: dict[str, Any]) -> tuple[int | None, str]:
        body = row["body"].encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Gateway-Delivery": row["delivery_id"],
            "X-Gateway-Kind": row["kind"],
            "X-Gateway-Signature": signature(sub["secret"], int(time.time()), body),
        }
        self.attempts += 1
        try:
            status = post(sub["url"], body, headers, self.settings.timeout_s)
        except TimeoutError:
            self.timeouts += 1
            return None, f"no answer within {self.settings.timeout_s:g} s"
        except (OSError, ValueError) as err:  # refused, reset, DNS, a bad URL
            reason = getattr(err, "reason", err)
            if isinstance(reason, TimeoutError):
                self.timeouts += 1
                return None, f"no answer within {self.settings.timeout_s:g} s"
            return None, f"{type(err).__name__}: {reason}"
        return status, "" if 200 <= status < 300 else f"HTTP {status}"
