"""Dead letters stay bounded in storage: the oldest are pruned and the pruned count is kept."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from gateway.settings import load_settings
from gateway.store.tables import DeadLetter
from tests.support import FIXTURES, ROOT


def test_gateway_prunes_oldest_dead_letters(tmp_path: Path) -> None:
    from gateway.ingest import RawMessage
    from gateway.runtime import Gateway
    from gateway.store.dead_letters import pruned_count

    settings = load_settings(
        database_url=f"sqlite:///{tmp_path}/dl.db",
        building=FIXTURES / "building-small.yaml",
        profiles_dir=ROOT / "device_profiles",
        admin_token="t",
        dead_letters_max=5,
    )
    gw = Gateway(settings)
    try:
        msgs = [
            RawMessage(f"nobody/{i}", b"{}", 1_764_320_400.0 + i, qos=0, mid=0) for i in range(12)
        ]
        gw.pipeline.process(msgs)
        assert gw.writer.dead_letters == 12
        gw.lifecycle.prune_dead_letters()
        assert gw.writer.dead_letters == 5
        with gw.db.connect() as conn:
            topics = conn.execute(select(DeadLetter.topic).order_by(DeadLetter.id)).scalars().all()
        assert topics == [f"nobody/{i}" for i in range(7, 12)]  # the newest five are kept
        assert pruned_count(gw.db, gw.building.site.id) == 7
    finally:
        gw.db.dispose()
