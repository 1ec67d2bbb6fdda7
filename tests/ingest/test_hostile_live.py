"""The hostile corpus over MQTT into a real gateway, on SQLite and PostgreSQL: every good
message after a bad one is committed, and ingest survives a restart (nothing redelivered
keeps failing)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from gateway.store import create_db_engine
from gateway.store.tables import DeadLetter
from gateway.store.tables import Event as EventRow
from tests.ingest.test_hostile import HOSTILE, door
from tests.support import Broker, GatewayProcess, Publisher, wait_for

# topics a broker carries (mosquitto drops a client that publishes a control character or a
# lone surrogate in one; 65,535 bytes at most)
CARRIED = [
    *(
        (what, topic, payload)
        for what, topic, payload in HOSTILE
        if topic.isprintable() and len(topic) < 10_000
    ),  # fmt: skip
    ("5,000-character topic", "ref/counter/" + "c" * 5_000, b'{"count": 1}'),
]


def test_a_hostile_corpus_over_mqtt_never_stops_a_gateway(
    broker: Broker, tmp_path: Path, db_url: str
) -> None:
    gw = GatewayProcess(broker.url, tmp_path, GATEWAY_DATABASE_URL=db_url).start()
    pub = Publisher(broker.port, "hostile")
    good = 0
    try:
        for _, topic, payload in CARRIED:
            pub.publish(topic, payload)
            good += 1
            pub.publish("ref/door/door-office-101/event", door(member=f'"m-{good}"'))
        sent = 2 * len(CARRIED)
        wait_for(lambda: gw.get("/api/v1/stats")["messages_committed"] >= sent, timeout=30)
        gw.stop()
        gw.start()  # nothing held at the broker keeps failing after a restart
        pub.publish("ref/door/door-office-101/event", door(member='"m-last"'))
        good += 1
        db = create_db_engine(db_url)
        try:

            def stored_good() -> int:
                with db.connect() as c:
                    q = (
                        select(func.count())
                        .select_from(EventRow)
                        .where(
                            EventRow.device == "door-office-101"  # type: ignore[arg-type]
                        )
                    )
                    return int(c.execute(q).scalar_one())

            wait_for(lambda: stored_good() == good, timeout=30)
            with db.connect() as c:
                letters = int(c.execute(select(func.count()).select_from(DeadLetter)).scalar_one())
            print(f"\n{db.dialect.name}: good stored {stored_good()} of {good} sent; "
                  f"{letters} dead letters for {len(CARRIED)} hostile messages")  # fmt: skip
        finally:
            db.dispose()
        assert letters == len(CARRIED)
    finally:
        pub.close()
        gw.stop()
