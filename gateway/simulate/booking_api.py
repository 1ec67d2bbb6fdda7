"""The simulator's HTTP side: its booking requests sent to the gateway's bookings API."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import UTC, datetime

from gateway.simulate.bookings import BookingRequest

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


class BookingApi:
    """POSTs bookings to ``{base_url}api/v1/bookings`` with a bearer token (staff, app or
    admin: it books for the member each request names)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.url = base_url.rstrip("/") + "/api/v1/bookings"
        self.token = token
        self.made = 0
        self.refused = 0  # 4xx: a clash or a room the gateway does not take bookings for

    def book(self, request: BookingRequest) -> bool:
        """Make one booking; False (logged once per kind) when the gateway says no."""
        body = {
            "space": request.space,
            "member": request.member,
            "start": _iso(request.start),
            "end": _iso(request.end),
            "requires_checkin": True,
        }
        req = urllib.request.Request(
            self.url,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S):
                self.made += 1
                return True
        except urllib.error.HTTPError as err:
            if self.refused == 0:
                log.info("simulator: booking of %s refused: %s", request.space, err.read()[:200])
            self.refused += 1
        except OSError as err:
            log.warning("simulator: bookings API at %s not reached: %s", self.url, err)
            self.refused += 1
        return False
