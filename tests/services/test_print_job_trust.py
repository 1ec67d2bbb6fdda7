"""Printer job events are trusted only so far: a known status, and only for the printer's jobs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.events import Event
from gateway.ingest import RawMessage
from tests.services.conftest import BUILDING, Site, make_site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The services site with a second printer."""
    text = BUILDING.read_text()
    one = "  - {id: printer-1, profile: ref-printer}\n"
    assert one in text
    building = tmp_path / "building.yaml"
    building.write_text(text.replace(one, one + one.replace("printer-1", "printer-2")))
    yield from make_site(tmp_path, building=building)


def send_job(site: Site, printer: str, job: str, event: str, owner: str = "m-1") -> None:
    site.mid += 1
    body = json.dumps({"job": job, "event": event, "owner": owner}).encode()
    raw = RawMessage(f"ref/printer/{printer}/job", body, site.clock.t, qos=1, mid=site.mid)
    site.gw.pipeline.process([raw])
    site.gw.services.pump()


def test_another_printer_cannot_move_a_job(site: Site) -> None:
    send_job(site, "printer-1", "j-1", "held")
    send_job(site, "printer-2", "j-1", "completed", owner="m-2")
    job = site.client.get("/api/v1/print-jobs/j-1").json()
    assert (job["printer"], job["status"], job["owner"]) == ("printer-1", "held", "m-1")
    assert [h["by"] for h in job["history"]] == ["printer-1"]
    assert site.gw.services.print_jobs.refused == 1
    send_job(site, "printer-1", "j-1", "completed")  # its own printer still can
    assert site.client.get("/api/v1/print-jobs/j-1").json()["status"] == "completed"


def test_unknown_statuses_are_counted_not_stored(site: Site) -> None:
    # the reference profile already refuses them; a job event from any other source
    # (a profile without the list, the hub) must not be stored either
    pj = site.gw.services.print_jobs

    def ev(status: str) -> Event:
        attrs = {"job": "j-2", "owner": "m-1"}
        return Event(
            "svc-site",
            "printer-1",
            None,
            site.clock.t,
            "print_job",
            "print_job",
            status,
            None,
            attrs,
        )

    pj.on_events([ev("exploded")], site.clock.t)
    assert site.client.get("/api/v1/print-jobs/j-2").status_code == 404
    pj.on_events([ev("held"), ev("x" * 200)], site.clock.t)
    job = site.client.get("/api/v1/print-jobs/j-2").json()
    assert job["status"] == "held" and len(job["history"]) == 1
    assert pj.refused == 2
