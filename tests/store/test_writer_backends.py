"""The batch writer and the store helpers on SQLite and PostgreSQL: same rows, same answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from gateway.building import DeviceBinding
from gateway.errors import StoreError
from gateway.events import Event
from gateway.ingest.batch import Batch, DeviceUpdate
from gateway.store import BatchWriter, create_db_engine, init_db, redelivery
from gateway.store import sql as sql_mod
from gateway.store.bindings import load_bindings, save_binding
from gateway.store.dead_letters import prune_dead_letters, pruned_count
from gateway.store.writer import DEAD_LETTERS, DEVICES, EVENTS, row_value

T = 1_764_320_400.123456  # sub-second precision must survive the round trip


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    init_db(engine)
    yield engine
    engine.dispose()


def ev(site: str, i: int, value: bool | int | float | str, quantity: str = "people_count") -> Event:
    attrs = {"member": f"m{i}", "n": [i, 2]} if isinstance(value, str) else {}
    return Event(site, f"dev-{i % 3}", "orion", T + i, "measurement", quantity, value, None, attrs)


def test_events_round_trip(db: Engine) -> None:
    w = BatchWriter(db, site="a")
    batch = Batch()
    values: list[tuple[str, bool | int | float | str]] = [
        ("people_count", 3), ("temperature_c", 21.25), ("occupied", True), ("door", "granted"),
    ]  # fmt: skip
    for i in range(1200):  # more than one statement chunk
        q, v = values[i % 4]
        batch.events.append((ev("a", i, v, q), T + i + 0.5))
    batch.dead_letters.append(
        {"site": "a", "topic": "x/y", "payload": b"\x00\xffbad", "reason": "r", "received_at": T}
    )
    w.write(batch)
    assert (w.events_stored, w.dead_letters) == (1200, 1)
    with db.connect() as conn:
        rows = conn.execute(select(EVENTS).order_by(EVENTS.c.ts)).all()
        (dl,) = conn.execute(select(DEAD_LETTERS)).all()
    assert len(rows) == 1200
    for i, r in enumerate(rows):
        q, v = values[i % 4]
        assert (r.site, r.device, r.quantity, r.ts, r.received_at) == (
            "a", f"dev-{i % 3}", q, T + i, T + i + 0.5,
        )  # fmt: skip
        assert row_value(r.quantity, r.value_num, r.value_text) == v
        assert r.attrs == ({"member": f"m{i}", "n": [i, 2]} if isinstance(v, str) else None)
    assert bytes(dl.payload) == b"\x00\xffbad"
    # a second writer on the same store starts from what it holds
    assert BatchWriter(db).events_stored == 1200


def test_a_failed_batch_keeps_nothing(db: Engine) -> None:
    w = BatchWriter(db, site="a")
    bad = Event("a", "d" * 500, None, T, "measurement", "people_count", 1)  # device too long
    batch = Batch(events=[(ev("a", 1, 2), T), (bad, T)])
    batch.fingerprints.append((1, 99))
    if db.dialect.name == "sqlite":  # SQLite does not enforce VARCHAR lengths
        batch.events[1] = (Event(None, "d", None, T, "measurement", "x", 1), T)  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        w.write(batch)
    with db.connect() as conn:
        assert conn.execute(select(EVENTS)).all() == []
    assert w.committed([(1, 99)]) == set()
    w.write(Batch(events=[(ev("a", 2, 5), T)]))  # the writer keeps working afterwards
    assert w.events_stored == 1


def test_device_upserts_merge_readings(db: Engine) -> None:
    def upd(ts: float, readings: dict[str, float], online: bool | None) -> Batch:
        u = DeviceUpdate("ref", "orion", True, ts, ts, online, readings)
        return Batch(devices={("a", "pc-1"): u, ("b", "pc-1"): u})

    BatchWriter(db).write(upd(T, {"people_count": 2}, True))
    # a fresh writer (empty cache) must read the stored readings back before its upsert
    BatchWriter(db).write(upd(T + 60, {"temperature_c": 20.5}, None))
    with db.connect() as conn:
        rows = conn.execute(select(DEVICES).order_by(DEVICES.c.site)).all()
    assert [(r.site, r.id) for r in rows] == [("a", "pc-1"), ("b", "pc-1")]
    for r in rows:
        assert r.readings == {"people_count": 2, "temperature_c": 20.5}
        assert (r.first_seen, r.last_seen, r.online) == (T, T + 60, True)


def test_redelivery_records_are_per_site(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redelivery, "PRUNE_EVERY", 1)
    a = BatchWriter(db, client="gateway", site="a", redelivery_window=5)
    b = BatchWriter(db, client="gateway", site="b", redelivery_window=5)
    for mid in range(1, 9):  # interleaved, as two gateways sharing a store would write
        a.write(Batch(fingerprints=[(mid, 100 + mid)]))
        b.write(Batch(fingerprints=[(mid, 200 + mid)]))
    # each site keeps its own last 5, whatever the other wrote in between
    assert a.committed([(m, 100 + m) for m in range(1, 9)]) == {(m, 100 + m) for m in range(4, 9)}
    assert b.committed([(m, 200 + m) for m in range(1, 9)]) == {(m, 200 + m) for m in range(4, 9)}
    assert a.committed([(8, 208)]) == set()  # b's record is not a's


def test_bindings_and_dead_letter_pruning(db: Engine) -> None:
    save_binding(db, "a", DeviceBinding("s-1", "zigbee2mqtt", "orion"))
    save_binding(db, "a", DeviceBinding("s-1", "zigbee2mqtt", "lounge"))  # replaces
    save_binding(db, "b", DeviceBinding("s-1", "tasmota", None))
    assert load_bindings(db, "a") == {"s-1": DeviceBinding("s-1", "zigbee2mqtt", "lounge")}
    assert load_bindings(db, "b") == {"s-1": DeviceBinding("s-1", "tasmota", None)}
    w = BatchWriter(db)
    for site in ("a", "b"):
        w.write(
            Batch(
                dead_letters=[
                    {
                        "site": site,
                        "topic": f"t/{i}",
                        "payload": b"x",
                        "reason": "r",
                        "received_at": T + i,
                    }  # fmt: skip
                    for i in range(10)
                ]
            )
        )
    assert prune_dead_letters(db, "a", max_rows=4) == 6
    assert prune_dead_letters(db, "a", max_rows=4) == 0
    assert (pruned_count(db, "a"), pruned_count(db, "b")) == (6, 0)
    with db.connect() as conn:
        left = conn.execute(select(DEAD_LETTERS.c.site, DEAD_LETTERS.c.topic)).all()
    assert sorted(t for s, t in left if s == "a") == [f"t/{i}" for i in range(6, 10)]
    assert sum(1 for s, _ in left if s == "b") == 10


def test_sqlite_multi_row_inserts_keep_every_row_and_few_statement_texts(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Padded statements insert exactly the rows given (NULLs included), in chunks when the
    bound-value limit is reached, with a handful of statement texts for any batch size."""
    from sqlalchemy import event as sa_event
    from sqlalchemy import text

    engine = create_db_engine(f"sqlite:///{tmp_path}/rows.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE r (a TEXT NOT NULL, b INTEGER, c REAL)"))
    texts: set[str] = set()
    sa_event.listen(engine, "before_cursor_execute", lambda *a: texts.add(a[2]))
    monkeypatch.setattr(sql_mod, "_param_limit", 4 * 300)  # 300 rows of (marker, a, b, c)
    sizes = [1, 2, 3, 7, 200, 257, 299, 300, 301, 650]
    want: list[tuple[object, ...]] = []
    with engine.begin() as conn:
        for n in sizes:
            rows = [(f"n{n}-{i}", None if i % 2 else i, i / 3) for i in range(n)]
            sql_mod.insert_rows(conn, "r", ("a", "b", "c"), rows)
            want += rows
    with engine.connect() as conn:
        got = [tuple(r) for r in conn.execute(text("SELECT a, b, c FROM r ORDER BY rowid"))]
    engine.dispose()
    assert got == want
    inserts = {t for t in texts if t.startswith("INSERT")}
    assert len(inserts) <= 8  # sizes 1, 2, 4, 8, 256, 300 (the limit), ... not one per size
