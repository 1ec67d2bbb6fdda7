"""The outbox's own rules: the backoff and its jitter, pruning only what was delivered."""

from __future__ import annotations

from pathlib import Path

from gateway.integrations.outbox import Outbox, backoff_s, new_id
from gateway.store import create_db_engine, init_db
from gateway.webhook_settings import WebhookSettings


def test_backoff_doubles_to_its_cap_with_half_of_it_random() -> None:
    s = WebhookSettings(retry_min_s=1.0, retry_max_s=60.0)
    low = [backoff_s(n, s, lambda: 0.0) for n in range(1, 10)]
    high = [backoff_s(n, s, lambda: 1.0) for n in range(1, 10)]
    assert high == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert low == [h / 2 for h in high]  # the jitter spreads each wait over its upper half
    assert backoff_s(10_000, s, lambda: 1.0) == 60.0  # no overflow however many attempts


def test_prune_drops_old_deliveries_and_never_a_pending_one(tmp_path: Path) -> None:
    db = create_db_engine(f"sqlite:///{tmp_path}/o.db")
    init_db(db)
    now = 1_000_000.0
    box = Outbox(db, "hq", WebhookSettings(keep_delivered_s=3600), lambda: now)
    box.put([("s", new_id(), "test", "{}") for _ in range(3)], now - 7200)
    old, recent, waiting = box.heads("s")
    box.delivered([(old, 200, now - 7200), (recent, 200, now - 60)], was_failing=False)
    assert box.prune(now) == 1
    left = {r["seq"]: r["status"] for r in box.page("s", None, 10, 0)[0]}
    assert left == {recent["seq"]: "delivered", waiting["seq"]: "pending"}
    assert box.pending == {"s": 1}
    db.dispose()
