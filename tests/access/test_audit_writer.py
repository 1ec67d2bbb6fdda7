"""The door-audit writer: rows first, the engine's trouble contained, the thread never dies."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select

from gateway.access.doors import AuditFlusher
from gateway.store.audit import AUDIT
from tests.access.conftest import Site
from tests.support import wait_for


def ask(site: Site, request: str) -> None:
    body = json.dumps({"request": request, "credential": "04A1B2C3"}).encode()
    assert site.gw.access.decider.handle("ref/door/door-office-101/request", body) is not None


def door_rows(site: Site) -> list[str]:
    with site.gw.db.connect() as conn:
        rows = conn.execute(select(AUDIT.c.detail).where(AUDIT.c.action == "door_decision"))
        return [r.detail["request"] for r in rows]


def test_a_failing_engine_hand_off_costs_no_audit_rows(site: Site) -> None:
    d = site.gw.access.decider

    def broken(*_a: object) -> None:
        raise RuntimeError("engine bug")

    d.evidence = broken
    ask(site, "r-1")  # granted: a badge for the engine too
    assert d.flush() == 1
    assert door_rows(site) == ["r-1"]


def test_rows_the_store_will_never_take_are_dropped_counted_and_shown(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = site.gw.access.decider
    ask(site, "r-1")

    def refuse(*_a: object) -> None:
        raise ValueError("not storable")

    monkeypatch.setattr("gateway.access.doors.record", refuse)
    assert d.flush() == 0 and d.audit_dropped == 1
    monkeypatch.undo()
    ask(site, "r-2")
    assert d.flush() == 1 and door_rows(site) == ["r-2"]  # the writer goes on
    text = site.client.get("/metrics").text
    assert "gateway_door_audit_dropped_total 1.0" in text


def test_the_writer_thread_outlives_a_failing_round(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = site.gw.access.decider
    real, calls = d.flush, []

    def flaky() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("one bad round")
        return real()

    monkeypatch.setattr(d, "flush", flaky)
    w = AuditFlusher(d, 0.01)
    w.start()
    try:
        wait_for(lambda: len(calls) >= 2)
        ask(site, "r-3")
        wait_for(lambda: door_rows(site) == ["r-3"])
        assert w.is_alive()
    finally:
        w.stopping.set()
        w.join(timeout=5)
    assert not any(t.name == "access-audit" and t is w for t in threading.enumerate())
