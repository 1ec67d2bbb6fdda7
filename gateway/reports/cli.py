"""``gateway report utilization``: the utilization report from the store the gateway uses."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import inspect

from gateway.building import load_building
from gateway.errors import ConfigError
from gateway.readmodel.queries import ReadModel
from gateway.reports import render
from gateway.settings import load_settings
from gateway.store import create_db_engine

LONG_WINDOW_S = 7 * 86_400  # longer windows show a progress bar


def parse_when(text: str, tz: ZoneInfo, *, end: bool = False) -> float:
    """Epoch of an ISO date or date-time; without an offset it is the site's local time.

    A bare date means its local midnight, or for ``--to`` the midnight after it, so
    ``--from 2026-03-01 --to 2026-03-31`` covers all of March.
    """
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            if end:
                d += timedelta(days=1)
            return datetime.combine(d, time(), tz).timestamp()
        dt = datetime.fromisoformat(text)
    except ValueError as err:
        raise ConfigError(f"not an ISO-8601 date or time: {text!r}") from err
    return (dt if dt.tzinfo is not None else dt.replace(tzinfo=tz)).timestamp()


def _read_model(args: argparse.Namespace) -> ReadModel:
    """The read model of the store and building the gateway with these settings uses."""
    settings = load_settings(args.config)
    building = load_building(settings.building)
    db = create_db_engine(settings.database_url, busy_timeout_ms=settings.database_busy_timeout_ms)
    if "rollup_bin" not in inspect(db).get_table_names():
        raise ConfigError(f"no gateway store at {settings.database_url} (run the gateway first)")
    return ReadModel(db, settings.occupancy, lambda: building)


def cmd_utilization(args: argparse.Namespace) -> int:
    rm = _read_model(args)
    tz = rm.building.site.tz
    t1 = parse_when(args.to, tz, end=True) if args.to else datetime.now(tz).timestamp()
    t0 = parse_when(args.from_, tz) if args.from_ else t1 - 7 * 86_400
    if t1 <= t0:
        raise ConfigError("--to must be after --from")
    err = Console(stderr=True)
    show = t1 - t0 > LONG_WINDOW_S and not args.quiet
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not show,
    ) as bar:
        task = bar.add_task(f"reading {(t1 - t0) / 86_400:.0f} days of rollups", total=1.0)

        def progress(done: float) -> None:
            bar.update(task, completed=done)

        if args.format == "png":
            by = {"floor": "floor", "type": "type"}.get(args.group_by, "space")
            hm = rm.heatmap(t0, t1, by, progress)  # type: ignore[arg-type]
        else:
            report = rm.utilization(t0, t1, args.group_by, progress=progress)
    out: Path | None = Path(args.output) if args.output else None
    if args.format == "png":
        path = out or Path("utilization.png")
        title = f"{rm.building.site.name}: time used % by {hm.by} and hour"
        render.to_png(hm, path, title)
        err.print(f"wrote {path} ({len(hm.rows)} rows x {len(hm.hours)} hours)")
        return 0
    text: str | None = None
    if args.format == "csv":
        text = render.to_csv(report)
    elif args.format == "json":
        text = render.to_json(report) + "\n"
    if text is not None:
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text)
        return 0
    if out is None:
        render.table(report, Console())
    else:
        with out.open("w") as fh:
            render.table(report, Console(file=fh, width=160))
    return 0


def add_commands(sub: Any) -> None:
    """Add ``report utilization`` to the ``gateway`` command's subparsers."""
    rep = sub.add_parser("report", help="reports from the store: utilization")
    rsub = rep.add_subparsers(dest="report_command", required=True)
    u = rsub.add_parser(
        "utilization",
        help="time used %%, occupancy and bands per space, floor, type or site",
        description="Dates without an offset are the site's local time; a bare --to date "
        "includes that whole day. Default window: the last 7 days.",
    )
    u.add_argument("--from", dest="from_", metavar="WHEN", help="ISO date or date-time")
    u.add_argument("--to", metavar="WHEN", help="ISO date or date-time (default: now)")
    u.add_argument("--group-by", choices=("space", "floor", "type", "site"), default="space")
    u.add_argument("--format", choices=("table", "csv", "json", "png"), default="table")
    u.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    u.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    u.set_defaults(func=cmd_utilization)
