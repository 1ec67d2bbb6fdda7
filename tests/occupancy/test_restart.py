"""kill -9 of a real `gateway run`: spaces come back in their last state, no bin counted twice."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from tests.support import Broker, GatewayProcess, Publisher, wait_for

BIN_S = 2  # short bins so a few seconds of wall time cross several of them


def test_kill_9_resumes_state_and_keeps_rollups_exact(broker: Broker, tmp_path: Path) -> None:
    gw = GatewayProcess(
        broker.url,
        tmp_path,
        GATEWAY_OCCUPANCY__TICK_S="0.1",
        GATEWAY_OCCUPANCY__SNAPSHOT_S="0.2",
        GATEWAY_OCCUPANCY__BIN_S=str(BIN_S),
        GATEWAY_OCCUPANCY__SENSOR_STALE_S="86400",
    ).start()
    pub = Publisher(broker.port, client_id="restart-pub")
    try:
        t_first = time.time()
        pub.publish("ref/counter/pc-orion", {"count": 3})
        before = wait_for(
            lambda: (s := gw.get("/api/v1/spaces/orion"))["state"] == "occupied" and s
        )
        assert before["occupancy"] == 3
        time.sleep(2.5 * BIN_S)  # bins close and are saved with snapshots meanwhile
        gw.stop(sig="kill")
        t_killed = time.time()
        db = sqlite3.connect(tmp_path / "gateway.db")
        saved = db.execute(
            "SELECT COUNT(*), SUM(occupied_s) FROM rollup_bin WHERE space = 'orion'"
        ).fetchone()
        assert saved[0] >= 2 and saved[1] > 0  # bins were written before the kill

        gw.start()
        after = gw.get("/api/v1/spaces/orion")
        # last known state, with the same since-when and count
        assert (after["state"], after["occupancy"], after["since"]) == (
            "occupied",
            3,
            before["since"],
        )
        time.sleep(2.5 * BIN_S)
        gw.stop()  # graceful: the last bins and the snapshot are written
        t_end = time.time()
        rows = db.execute(
            "SELECT start, length, occupied_s, person_s, peak FROM rollup_bin "
            "WHERE space = 'orion' ORDER BY start"
        ).fetchall()
        db.close()
        starts = [r[0] for r in rows]
        assert len(starts) == len(set(starts))
        for start, length, occ, person, peak in rows:
            assert 0 < occ <= length + 1e-6, (start, occ)  # never more than the bin holds
            assert abs(person - 3 * occ) < 1e-6 and peak == 3
        total = sum(r[2] for r in rows)
        # at most the time the gateway was running while orion was occupied (nothing twice),
        # and more than what was saved before the kill (the run after restart was added)
        assert total <= t_end - t_first + 1e-6
        assert total > saved[1]
        assert t_killed > t_first
    finally:
        pub.close()
        if gw.proc is not None:
            gw.stop()
