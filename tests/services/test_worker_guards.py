"""One failing member-service handler, or one job that cannot be released, loses nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.ingest import RawMessage
from tests.services.conftest import Site


def job(site: Site, job_id: str, event: str, owner: str = "m-42") -> RawMessage:
    site.mid += 1
    body = json.dumps({"job": job_id, "event": event, "owner": owner}).encode()
    return RawMessage("ref/printer/printer-1/job", body, site.clock.t, qos=1, mid=site.mid)


def status(site: Site, job_id: str) -> Any:
    return site.client.get(f"/api/v1/print-jobs/{job_id}").json().get("status")


def test_a_raising_handler_does_not_skip_the_others(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_a: object) -> None:
        raise RuntimeError("bookings bug")

    monkeypatch.setattr(site.gw.services.bookings, "on_events", broken)
    site.gw.pipeline.process([job(site, "j-1", "held")])
    site.gw.services.pump()  # must not raise
    assert status(site, "j-1") == "held"  # print jobs, after bookings, still saw the event


def test_a_badge_whose_release_fails_does_not_lose_the_rest_of_the_batch(site: Site) -> None:
    # MQTT out is off in this site, so releasing a job is Unavailable
    site.gw.pipeline.process([job(site, "j-1", "held")])
    site.gw.services.pump()
    site.mid += 1
    badge = RawMessage(
        "ref/printer/printer-1/badge", b'{"credential": "card:0042"}', site.clock.t, 1, site.mid
    )
    site.gw.pipeline.process([badge, job(site, "j-2", "held")])
    site.gw.services.pump()
    assert status(site, "j-1") == "held"  # not released, and the failure was contained
    assert status(site, "j-2") == "held"  # the event after the badge was still applied


def test_stop_handles_what_was_queued(site: Site) -> None:
    svc = site.gw.services
    svc.start()
    svc._stop.set()  # the worker ends; items handed off meanwhile wait in the queue
    assert svc._thread is not None
    svc._thread.join(timeout=5)
    site.gw.pipeline.process([job(site, "j-7", "held")])
    assert svc._q.qsize() == 1
    svc.stop()
    assert svc._q.qsize() == 0 and status(site, "j-7") == "held"
