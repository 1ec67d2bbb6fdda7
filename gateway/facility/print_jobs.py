"""Print release: jobs held until their owner releases them (app or badge), lifecycle stored.

The printer tells a job's lifecycle (``print_job`` events: submitted, held, released,
completed, failed); a status never moves backwards, so late or repeated events do no harm.
A release -- from the app on behalf of the owner, or the owner's badge read at the printer --
goes out as the printer profile's ``release_job`` command on MQTT, and is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from gateway.events import Event
from gateway.facility.job_rows import NEW_ROW, STATUSES, JobRows, rank, times
from gateway.facility.ports import Commands, ConfigSource, LiveView, MemberLookup, SiteStore
from gateway.facility.rows import one, page, where
from gateway.facility.service_errors import Conflict, Forbidden, ServiceError, Unavailable
from gateway.logtext import clean
from gateway.profiles.commands import CommandError
from gateway.store.audit import Audit, record
from gateway.store.member_tables import PRINT_JOBS

__all__ = ["STATUSES", "PrintJobs"]

log = logging.getLogger(__name__)

J = PRINT_JOBS.c
RELEASABLE = ("submitted", "held")
IDS_PER_SELECT = 5000  # under the backends' bound-parameter limits (SQLite 32766, PostgreSQL 65535)


class PrintJobs:
    """The site's print jobs, from printer events and release requests."""

    def __init__(
        self,
        store: SiteStore,
        live: LiveView,
        config: ConfigSource,
        *,
        commands: Commands | None = None,  # None: MQTT out is off
        members: MemberLookup | None = None,  # None: trust the reader's own lookup
    ) -> None:
        self.db, self.clock, self.site = store.db, store.clock, store.site
        self.live, self.config = live, config
        self.commands, self.members = commands, members
        self.refused = 0  # printer job events not applied: unknown status, another printer's job

    # -- printer events -------------------------------------------------------------------------
    def on_events(self, events: Iterable[Event], now: float) -> None:
        """Apply a batch's printer events in order, in one transaction per run of job and
        printer-state events: a commit per event would take the store's write lock as often
        as ingest does and slow it down. A badge ends the run (its releases see it committed)."""
        run: list[Event] = []
        for ev in events:
            job = ev.quantity == "print_job" and ev.attrs.get("job")
            if job or (ev.quantity == "printer_state" and ev.value == "printing"):
                run.append(ev)
            elif ev.quantity == "badge":
                self._apply_run(run, now)
                run = []
                self._badge(ev, now)
        self._apply_run(run, now)

    def _apply_run(self, run: list[Event], now: float) -> None:
        """Apply the run in order (each event sees the ones before it) to the rows it touches,
        in memory: two SELECTs, one INSERT and one UPDATE however long the run is."""
        if not run:
            return
        with self.db.begin() as conn:
            rows = JobRows(self._load(conn, run))
            for ev in run:
                if ev.quantity == "print_job":
                    self._job_event(rows, ev, now)
                else:  # a printer printing: its released jobs are printing now
                    step = {"status": "printing", "at": ev.ts, "by": ev.device}
                    for row in rows.by_printer.get(ev.device, []):
                        if row["status"] == "released":
                            rows.move(row, step, now)
            rows.write(conn, self.site)

    def _load(self, conn: Connection, run: list[Event]) -> list[dict[str, Any]]:
        """The jobs the run names, and the released jobs of the printers it says print: two
        SELECTs (one with an OR of both scans the whole site: slower than the two together)."""
        ids = sorted({str(ev.attrs["job"]) for ev in run if ev.quantity == "print_job"})
        printers = sorted({ev.device for ev in run if ev.quantity != "print_job"})
        conds: list[ColumnElement[bool]] = [
            J.id.in_(ids[i : i + IDS_PER_SELECT]) for i in range(0, len(ids), IDS_PER_SELECT)
        ]
        if printers:
            conds.append(and_(J.printer.in_(printers), J.status == "released"))
        rows = [conn.execute(select(PRINT_JOBS).where(J.site == self.site, c)).all() for c in conds]
        return [dict(r._mapping) for chunk in rows for r in chunk]

    def _job_event(self, rows: JobRows, ev: Event, now: float) -> None:
        job, status = str(ev.attrs["job"]), str(ev.value)
        owner = ev.attrs.get("owner")
        step = {"status": status, "at": ev.ts, "by": ev.device}
        if status not in STATUSES:
            self._refuse(ev, f"unknown status {status[:32]!r}")
            return
        row = rows.by_id.get(job)
        if row is not None and row["printer"] != ev.device:
            # a job belongs to the printer that first told of it; no other may move it
            self._refuse(ev, f"job {job[:64]!r} belongs to printer {row['printer']}")
            return
        if row is None:
            pages = ev.attrs.get("pages")
            new = {
                **NEW_ROW,
                "site": self.site,
                "id": job,
                "printer": ev.device,
                "owner": None if owner is None else str(owner),
                "pages": pages if isinstance(pages, int) else None,
                "status": status,
                "updated_at": now,
                "history": [step],
            }
            rows.add(new | times(status, ev.ts))
            return
        if rank(status) <= rank(row["status"]) and status != "failed":
            return  # late, repeated, or already past this stage
        if row["owner"] is None and owner is not None:
            row["owner"] = str(owner)
        rows.move(row, step, now)

    def _refuse(self, ev: Event, why: str) -> None:
        self.refused += 1
        if self.refused <= 10 or self.refused % 1000 == 0:
            log.warning(
                "print job event from %s ignored (%d so far): %s",
                clean(ev.device),
                self.refused,
                why,
            )

    def _badge(self, ev: Event, now: float) -> None:
        """A credential read at the printer releases that member's held jobs there."""
        if self.members is not None:
            found = self.members.by_hash(str(ev.value))  # ingest stored the hash, not the card
            member = None if found is None else found.id
        else:  # no member directory: trust the reader's own lookup, if it sent one
            member = ev.attrs.get("member")
        if not member:
            log.info("badge at printer %s: no member for that credential", clean(ev.device))
            return
        with self.db.connect() as conn:
            ids = (
                conn.execute(
                    select(J.id).where(
                        J.site == self.site,
                        J.printer == ev.device,
                        J.owner == str(member),
                        J.status.in_(RELEASABLE),
                    )
                )
                .scalars()
                .all()
            )
        for job in ids:
            try:  # one job that cannot be released must not keep the member's others held
                self.release(job, str(member), f"badge:{ev.device}", via="badge")
            except ServiceError as err:
                log.warning(
                    "badge at %s did not release job %s: %s", clean(ev.device), clean(job), err
                )

    # -- release ----------------------------------------------------------------------------------
    def release(self, job: str, member: str, actor: str, *, via: str = "app") -> dict[str, Any]:
        """Release ``job`` for ``member``: Forbidden unless they own it, Conflict if not held."""
        now = self.clock()
        with self.db.begin() as conn:
            row = self._get(conn, job)
            if row["owner"] != member:
                raise Forbidden(f"member {member!r} does not own print job {job!r}")
            if row["status"] not in RELEASABLE:
                raise Conflict(f"print job {job!r} is {row['status']}; only held jobs release")
            topic, payload = self._command(row["printer"], job, member)
            step = {"status": "released", "at": now, "by": actor}
            values = {
                "status": "released",
                "released_at": now,
                "released_by": actor,
                "updated_at": now,
                "history": [*row["history"], step],
            }
            conn.execute(
                update(PRINT_JOBS).where(J.site == self.site, J.id == job).values(**values)
            )
            record(
                conn,
                [
                    Audit(
                        site=self.site,
                        ts=now,
                        actor=actor,
                        action="print_released",
                        subject=job,
                        result="released",
                        reason=f"by {via}",
                        member=member,
                        detail={"printer": row["printer"], "topic": topic},
                    )
                ],
            )
            row.update(values)
        # sent after the commit: a release the store did not keep never reaches the printer
        assert self.commands is not None
        self.commands.send(topic, payload)
        log.info(
            "print job %s released on %s by %s", clean(job), clean(row["printer"]), clean(actor)
        )
        return row

    def _command(self, printer: str, job: str, member: str) -> tuple[str, bytes]:
        if self.commands is None:
            raise Unavailable("MQTT out is disabled (publish.enabled); cannot release jobs")
        config = self.config.get()
        binding = config.building.devices.get(printer)
        live = None if binding is not None else self.live.device(printer)
        profile = binding.profile if binding is not None else live.profile if live else None
        if profile is None:
            raise Unavailable(f"printer {printer!r} has no known profile")
        try:
            return config.registry.render_command(
                profile, printer, "release_job", {"job": job, "member": member}
            )
        except CommandError as err:
            raise Unavailable(f"printer {printer!r} cannot be asked to release: {err}") from err

    # -- reading ----------------------------------------------------------------------------------
    def get(self, job: str) -> dict[str, Any]:
        with self.db.connect() as conn:
            return self._get(conn, job)

    def query(
        self,
        *,
        owner: str | None = None,
        status: str | None = None,
        printer: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        conds = where(PRINT_JOBS, self.site, owner=owner, status=status, printer=printer)
        return page(self.db, PRINT_JOBS, conds, (J.updated_at.desc(), J.id), limit, offset)

    def _get(self, conn: Connection, job: str) -> dict[str, Any]:
        return one(conn, PRINT_JOBS, self.site, job, f"no print job {job!r}")
