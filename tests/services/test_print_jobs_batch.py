"""A batch of printer events is applied in a few statements, exactly as one event at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event

from gateway.events import Event
from gateway.store.member_tables import PRINT_JOBS
from tests.services.conftest import BUILDING, T0, Site, make_site

NOW = T0 + 1000.0


@pytest.fixture
def site(tmp_path: Path, db_url: str) -> Iterator[Site]:
    """The services site with a second printer, on each store backend."""
    text = BUILDING.read_text()
    one = "  - {id: printer-1, profile: ref-printer}\n"
    assert one in text
    building = tmp_path / "building.yaml"
    building.write_text(text.replace(one, one + one.replace("printer-1", "printer-2")))
    yield from make_site(tmp_path, building=building, database_url=db_url)


def job(printer: str, job_id: str, status: str, ts: float, **attrs: Any) -> Event:
    attrs = {"job": job_id, "owner": "m-1", **attrs}
    return Event("svc-site", printer, None, ts, "print_job", "print_job", status, None, attrs)


def printing(printer: str, ts: float) -> Event:
    return Event("svc-site", printer, None, ts, "printer", "printer_state", "printing")


def rows(site: Site) -> list[dict[str, Any]]:
    found, _ = site.gw.services.print_jobs.query(limit=1000)
    return sorted(found, key=lambda r: r["id"])


def feed(
    site: Site, before: list[Event], events: list[Event], *, one_by_one: bool
) -> tuple[list[dict[str, Any]], int, int]:
    """From an empty table: ``before`` one by one, then ``events`` in one call (or one per
    call); the rows and the refusals they left, and the statements ``events`` took."""
    pj = site.gw.services.print_jobs
    with site.gw.db.begin() as conn:
        conn.execute(delete(PRINT_JOBS))
    pj.refused = 0
    for ev in before:
        pj.on_events([ev], NOW)
    statements: list[str] = []
    count = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(site.gw.db, "before_cursor_execute", count)
    try:
        for batch in [[ev] for ev in events] if one_by_one else [events]:
            pj.on_events(batch, NOW)
    finally:
        event.remove(site.gw.db, "before_cursor_execute", count)
    return rows(site), pj.refused, len(statements)


def test_a_batch_sees_its_own_events_in_order(site: Site) -> None:
    before = [
        job("printer-1", "j-0", "released", T0 + 1),  # released earlier: printing moves it
        job("printer-2", "j-9", "released", T0 + 2),  # another printer's: it stays
    ]
    events = [
        job("printer-1", "j-1", "held", T0 + 10, pages=3),
        job("printer-1", "j-1", "released", T0 + 11),
        job("printer-2", "j-1", "completed", T0 + 12, owner="m-2"),  # not printer-2's job
        printing("printer-1", T0 + 13),
        job("printer-1", "j-1", "completed", T0 + 14),
        job("printer-1", "j-1", "held", T0 + 15),  # late: no effect
    ]
    got, refused, _ = feed(site, before, events, one_by_one=False)
    assert refused == 1
    j0, j1, j9 = got
    assert [(h["status"], h["at"], h["by"]) for h in j1["history"]] == [
        ("held", T0 + 10, "printer-1"),
        ("released", T0 + 11, "printer-1"),
        ("printing", T0 + 13, "printer-1"),
        ("completed", T0 + 14, "printer-1"),
    ]
    assert {k: v for k, v in j1.items() if k != "history"} == {
        "site": "svc-site",
        "id": "j-1",
        "printer": "printer-1",
        "owner": "m-1",
        "pages": 3,
        "status": "completed",
        "submitted_at": None,
        "released_at": T0 + 11,
        "released_by": None,
        "finished_at": T0 + 14,
        "updated_at": NOW,
    }
    assert (j0["status"], [h["status"] for h in j0["history"]]) == (
        "printing",
        ["released", "printing"],
    )
    assert (j9["status"], len(j9["history"])) == ("released", 1)
    assert (got, refused) == feed(site, before, events, one_by_one=True)[:2]


def test_statements_do_not_grow_with_the_batch(site: Site) -> None:
    def run(jobs: int) -> int:
        """Jobs already known (half held, half released) and ``jobs`` new ones, each moved
        through its lifecycle by four events, with printers printing in between."""
        before = [job("printer-1", f"old-{n}", ("held", "released")[n % 2], T0) for n in range(6)]
        events: list[Event] = []
        for n in range(jobs):
            printer = f"printer-{n % 2 + 1}"
            for k, status in enumerate(("submitted", "held", "released", "completed")):
                events.append(job(printer, f"j-{n}", status, T0 + 10 * n + k))
            events.append(job(printer, f"old-{n % 6}", "completed", T0 + 10 * n + 5))
            events.append(printing(printer, T0 + 10 * n + 6))
        expected = feed(site, before, events, one_by_one=True)
        got = feed(site, before, events, one_by_one=False)
        assert got[:2] == expected[:2] and got[1] == jobs // 2  # printer-2 naming old-1, -3, -5
        return got[2]

    few, many = run(2), run(25)  # 12 events, 150 events
    assert few == many <= 4  # two SELECTs, one INSERT, one UPDATE
