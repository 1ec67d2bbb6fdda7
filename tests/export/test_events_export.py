"""``gateway export events``: the raw events of a window as CSV or Parquet, on both backends."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.cli import main
from gateway.errors import ConfigError
from gateway.events import Event
from gateway.export.events import COLUMNS, Window, event_chunks, export_events, write_csv
from gateway.ingest.batch import Batch
from gateway.store import BatchWriter, create_db_engine, init_db
from tests.support import FIXTURES

SITE = "test-site"
T0 = datetime(2025, 11, 24, 12, tzinfo=ZoneInfo("Europe/Amsterdam")).timestamp()  # 11:00Z
N = 1_200
CREDENTIAL = "sha256:" + "ab" * 32  # what the store keeps of a badge: its hash


def _event(site: str, i: int) -> Event:
    """Every 60 s in turn: a people count, a temperature, an occupancy and a door event."""
    dev, space = ("pc-orion", "orion") if i % 2 == 0 else ("z-office-101-temp", "office-101")
    ts = T0 + 60 * i + 0.123456
    match i % 4:
        case 0:
            return Event(site, dev, space, ts, "measurement", "people_count", i)
        case 1:
            return Event(site, dev, space, ts, "measurement", "temperature_c", 21.25, "°C")
        case 2:
            return Event(site, dev, space, ts, "measurement", "occupied", True)
    attrs = {"credential": CREDENTIAL}
    return Event(site, dev, space, ts, "door", "door", "granted", None, attrs)


def _fill(url: str) -> None:
    """N events of this site, and as many of another site sharing the store, through the
    gateway's batch writer."""
    db = create_db_engine(url)
    init_db(db)
    for site in (SITE, "other-site"):
        batch = Batch()
        batch.events.extend((_event(site, i), _event(site, i).ts + 0.5) for i in range(N))
        BatchWriter(db, site=site).write(batch)
    db.dispose()


@pytest.fixture
def filled(db_url: str) -> str:
    _fill(db_url)
    return db_url


def _csv(url: str, w: Window) -> list[dict[str, str]]:
    db = create_db_engine(url)
    out = io.StringIO()
    try:
        n = write_csv(event_chunks(db, w, chunk=500), out)
    finally:
        db.dispose()
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert n == len(rows)
    return rows


def test_csv_holds_the_window_in_time_order(filled: str) -> None:
    rows = _csv(filled, Window(SITE, T0 + 60 * 10, T0 + 60 * 1010))  # start in, end out
    assert len(rows) == 1000
    assert tuple(rows[0]) == COLUMNS
    assert {r["site"] for r in rows} == {SITE}
    stamps = [datetime.fromisoformat(r["ts"]).timestamp() for r in rows]
    assert stamps == sorted(stamps)
    assert stamps[0] == pytest.approx(T0 + 600.123456, abs=1e-6)
    first = rows[:4]  # i = 10, 11, 12, 13
    assert [(r["quantity"], r["value"], r["value_text"]) for r in first] == [
        ("occupied", "1", ""), ("door", "", "granted"),
        ("people_count", "12", ""), ("temperature_c", "21.25", ""),
    ]  # fmt: skip
    assert first[0]["ts"] == "2025-11-24T11:10:00.123456Z"
    assert first[0]["received_at"] == "2025-11-24T11:10:00.623456Z"
    assert first[3]["unit"] == "°C" and first[3]["space"] == "office-101"
    assert json.loads(first[1]["attrs"]) == {"credential": CREDENTIAL}  # still the hash
    assert first[0]["attrs"] == ""


def test_device_and_space_narrow_it(filled: str) -> None:
    everything = Window(SITE, T0, T0 + 86_400)
    assert len(_csv(filled, everything)) == N
    by_device = _csv(filled, Window(SITE, T0, T0 + 86_400, device="pc-orion"))
    assert len(by_device) == N // 2 and {r["device"] for r in by_device} == {"pc-orion"}
    by_space = _csv(filled, Window(SITE, T0, T0 + 86_400, space="office-101"))
    assert len(by_space) == N // 2 and {r["space"] for r in by_space} == {"office-101"}
    assert _csv(filled, Window(SITE, T0, T0 + 86_400, "pc-orion", "office-101")) == []


def test_rows_come_in_chunks(filled: str) -> None:
    db = create_db_engine(filled)
    try:
        sizes = [len(c) for c in event_chunks(db, Window(SITE, T0, T0 + 86_400), chunk=500)]
    finally:
        db.dispose()
    assert sizes == [500, 500, 200]


def test_parquet_row_groups_and_values(filled: str, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is the optional extra [parquet]")
    out = tmp_path / "events.parquet"
    db = create_db_engine(filled)
    try:
        assert export_events(db, Window(SITE, T0, T0 + 86_400), "parquet", str(out)) == N
    finally:
        db.dispose()
    f = pq.ParquetFile(out)
    assert f.metadata.num_rows == N and f.metadata.num_row_groups == 1  # N < one chunk
    assert f.schema_arrow.names == list(COLUMNS)
    t = f.read().to_pylist()
    assert t[0]["ts"].timestamp() == pytest.approx(T0 + 0.123456, abs=1e-6)
    assert str(t[0]["ts"].tzinfo) == "UTC"
    assert [(r["quantity"], r["value"], r["value_text"]) for r in t[:4]] == [
        ("people_count", 0.0, None), ("temperature_c", 21.25, None),
        ("occupied", 1.0, None), ("door", None, "granted"),
    ]  # fmt: skip
    assert json.loads(t[3]["attrs"]) == {"credential": CREDENTIAL}
    assert not (tmp_path / "events.parquet.partial").exists()


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = f"sqlite:///{tmp_path}/gateway.db"
    _fill(url)
    monkeypatch.setenv("GATEWAY_DATABASE_URL", url)
    monkeypatch.setenv("GATEWAY_BUILDING", str(FIXTURES / "building-small.yaml"))
    return tmp_path


WINDOW = ["--from", "2025-11-24T12:00", "--to", "2025-11-24T12:10"]  # site time: 10 events


def test_the_command_writes_a_file_or_stdout(
    cli_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = cli_store / "events.csv"
    assert main(["export", "events", *WINDOW, "--output", str(out)]) == 0
    assert "exported 10 events" in capsys.readouterr().err
    assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == 10
    assert main(["export", "events", *WINDOW, "--device", "pc-orion"]) == 0
    assert len(list(csv.DictReader(io.StringIO(capsys.readouterr().out)))) == 5
    day = ["--from", "2025-11-24", "--to", "2025-11-24"]  # a bare --to date: all of that day
    assert main(["export", "events", *day, "-o", str(out)]) == 0
    assert "exported 720 events" in capsys.readouterr().err  # 12:00 to local midnight


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2025-11-25", "--to", "2025-11-24"], "--to must be after --from"),
        (["--from", "yesterday", "--to", "2025-11-24"], "not an ISO-8601 date or time"),
        ([*WINDOW, "-o", "/nonexistent-dir/x.csv"], "cannot write /nonexistent-dir/x.csv"),
        ([*WINDOW, "--format", "parquet"], "--format parquet needs --output FILE"),
    ],
)
def test_bad_input_is_a_clear_error(
    cli_store: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    if "parquet" in args:
        pytest.importorskip("pyarrow", reason="pyarrow is the optional extra [parquet]")
    assert main(["export", "events", *args]) == 2
    assert message in capsys.readouterr().err


def test_parquet_without_pyarrow_says_how_to_get_it(
    cli_store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    out = cli_store / "x.parquet"
    assert main(["export", "events", *WINDOW, "--format", "parquet", "-o", str(out)]) == 2
    assert "pip install 'gateway[parquet]'" in capsys.readouterr().err
    assert not out.exists()


def test_no_store_is_a_clear_error(tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path}/empty.db")
    try:
        with pytest.raises(ConfigError, match="no gateway store"):
            export_events(db, Window(SITE, T0, T0 + 1), "csv", None)
    finally:
        db.dispose()
