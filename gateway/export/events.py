"""``gateway export events``: the raw events of a window as CSV or Parquet, streamed in chunks.

Rows are read in time order through a streaming cursor (a server-side cursor on PostgreSQL),
``CHUNK`` at a time, and each chunk is written before the next is read, so memory stays flat
however long the window. Values are exported as stored: door events' credentials are already
hashed in the store and stay so. Parquet needs pyarrow, the optional extra ``gateway[parquet]``.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Text, cast, inspect, select
from sqlalchemy.engine import Engine

from gateway.errors import ConfigError
from gateway.store.event_view import of_site
from gateway.store.tables import Event

CHUNK = 5_000  # rows per fetch and per Parquet row group
COLUMNS = ("site", "device", "space", "ts", "received_at", "kind", "quantity",
           "value", "value_text", "unit", "attrs")  # fmt: skip
NO_PYARROW = "Parquet export needs pyarrow: pip install 'gateway[parquet]'"


@dataclass(frozen=True)
class Window:
    """Which events to export: one site, ``start`` inclusive to ``end`` exclusive (epoch)."""

    site: str
    start: float
    end: float
    device: str | None = None
    space: str | None = None


def event_chunks(engine: Engine, w: Window, chunk: int = CHUNK) -> Iterator[Sequence[Any]]:
    """The window's events in time order, ``chunk`` rows at a time, in ``COLUMNS`` order."""
    t = Event.__table__.c  # type: ignore[attr-defined]
    q = select(t.site, t.device, t.space, t.ts, t.received_at, t.kind, t.quantity,
               t.value_num, t.value_text, t.unit, cast(t.attrs, Text))  # fmt: skip
    q = q.where(t.ts >= w.start, t.ts < w.end)
    q = q.where(of_site(t.site, w.site, narrowed=w.device is not None or w.space is not None))
    if w.device is not None:
        q = q.where(t.device == w.device)
    if w.space is not None:
        q = q.where(t.space == w.space)
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=chunk).execute(q.order_by(t.ts, t.id))
        yield from result.partitions()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _number(v: float | None) -> float | int | None:
    return int(v) if v is not None and v.is_integer() and abs(v) < 2**53 else v


def write_csv(chunks: Iterable[Sequence[Any]], out: IO[str]) -> int:
    """CSV with a header row; times in ISO 8601 UTC, a missing value an empty field."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for rows in chunks:
        writer.writerows(
            (r[0], r[1], r[2], _iso(r[3]), _iso(r[4]), r[5], r[6], _number(r[7]), *r[8:])
            for r in rows
        )
        n += len(rows)
    return n


def pyarrow_modules() -> tuple[Any, Any]:
    """``pyarrow`` and ``pyarrow.parquet``, or a ConfigError saying how to install them."""
    try:
        return importlib.import_module("pyarrow"), importlib.import_module("pyarrow.parquet")
    except ImportError as err:
        raise ConfigError(NO_PYARROW) from err


def write_parquet(chunks: Iterable[Sequence[Any]], out: IO[bytes]) -> int:
    """Parquet (zstd), one row group per chunk; times as UTC timestamps in microseconds."""
    pa, pq = pyarrow_modules()
    stamp = pa.timestamp("us", tz="UTC")
    types = [pa.string(), pa.string(), pa.string(), stamp, stamp, pa.string(), pa.string(),
             pa.float64(), pa.string(), pa.string(), pa.string()]  # fmt: skip
    schema = pa.schema(list(zip(COLUMNS, types, strict=True)))
    n = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for rows in chunks:
            cols: list[Any] = [list(c) for c in zip(*rows, strict=True)]
            cols[3] = [round(ts * 1e6) for ts in cols[3]]
            cols[4] = [round(ts * 1e6) for ts in cols[4]]
            arrays = [pa.array(c, type=ty) for c, ty in zip(cols, types, strict=True)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            n += len(rows)
    return n


def export_events(engine: Engine, w: Window, fmt: str, output: str | None) -> int:
    """Write the window's events to ``output`` (stdout for CSV when None); the count written.

    A file is written beside its name and moved into place when complete, so an interrupted
    export never leaves a truncated file where a finished one is expected."""
    if w.end <= w.start:
        raise ConfigError("--to must be after --from")
    if fmt == "parquet":
        pyarrow_modules()  # say so before any work
        if output is None:
            raise ConfigError("--format parquet needs --output FILE")
    if "event" not in inspect(engine).get_view_names():
        raise ConfigError(f"no gateway store at {engine.url} (run the gateway first)")
    chunks = event_chunks(engine, w)
    if output is None:
        return write_csv(chunks, sys.stdout)
    return _write_file(chunks, fmt, Path(output))


def _write_file(chunks: Iterable[Sequence[Any]], fmt: str, output: Path) -> int:
    part = output.with_name(output.name + ".partial")
    try:
        f: IO[Any] = (
            part.open("wb") if fmt == "parquet" else part.open("w", encoding="utf-8", newline="")
        )
    except OSError as err:
        raise ConfigError(f"cannot write {output}: {err.strerror or err}") from err
    try:
        with f:
            n = write_parquet(chunks, f) if fmt == "parquet" else write_csv(chunks, f)
        os.replace(part, output)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return n


def cmd_export_events(args: argparse.Namespace) -> int:
    from gateway.building import load_building
    from gateway.reports.cli import parse_when
    from gateway.settings import load_settings
    from gateway.store import create_db_engine
    from gateway.store.db import sqlite_file

    settings = load_settings(args.config)
    site = load_building(Path(args.building or settings.building)).site
    t0, t1 = parse_when(args.from_, site.tz), parse_when(args.to, site.tz, end=True)
    path = sqlite_file(settings.database_url)
    if path is not None and not Path(path).exists():
        raise ConfigError(f"no gateway store at {settings.database_url} (run the gateway first)")
    engine = create_db_engine(settings.database_url, settings.database_busy_timeout_ms)
    try:
        n = export_events(engine, Window(site.id, t0, t1, args.device, args.space),
                          args.format, args.output)  # fmt: skip
    finally:
        engine.dispose()
    print(f"exported {n} events" + (f" to {args.output}" if args.output else ""), file=sys.stderr)
    return 0


def add_events_parser(esub: Any) -> None:
    """``export events`` on the export subparsers."""
    p = esub.add_parser("events", help="raw events of a time window as CSV or Parquet")
    when = "ISO date or date-time (site time without an offset)"
    p.add_argument("--from", dest="from_", metavar="WHEN", required=True, help=f"{when}, inclusive")
    p.add_argument("--to", metavar="WHEN", required=True, help=f"{when}; a bare date: all of it")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument("--output", "-o", metavar="FILE", help="file to write (CSV default: stdout)")
    p.add_argument("--device", help="only this device's events")
    p.add_argument("--space", help="only this space's events")
    p.add_argument("--building", help="building file (default: GATEWAY_BUILDING)")
    p.set_defaults(func=cmd_export_events)
