"""A people counter behind a LoRaWAN network server: ChirpStack v4 uplinks of a Milesight VS121."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.simulate.core import World
from gateway.simulate.sensors import Counter

APPLICATION = "5f1a27e4-8a6b-4b35-9d6a-21f3b8c9e0d1"  # the ChirpStack application id


class ChirpstackCounter(Counter):
    """Milesight VS121 people counter: ``people_count_all`` in the decoded ``object`` of a
    ChirpStack ``up`` event (device_profiles/chirpstack.yaml, its VS121 sample), on a
    changed count (debounced, as ``Counter``) and as a periodic uplink. The uplink's
    ``time`` is the simulated time, as ChirpStack stamps the time it received it."""

    def __init__(self, world: World, device_id: str, space: str | None) -> None:
        super().__init__(world, device_id, space)
        self.fcnt = self.rng.randint(1, 5000)
        self.topic = f"application/{APPLICATION}/device/{device_id}/event/up"

    def _report(self, ts: float) -> None:
        self.sent = self.world.count(self.space)
        self.fcnt += 1
        when = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
        payload = {
            "deduplicationId": f"{self.id}-{self.fcnt}",
            "time": when,
            "deviceInfo": {
                "deviceProfileName": "Milesight VS121",
                "devEui": self.id,
                "deviceName": f"vs121-{self.space}",
            },
            "fCnt": self.fcnt,
            "fPort": 85,
            "object": {"people_count_all": self.sent, "region_count": 1, "region_1": self.sent},
            "rxInfo": [{"gatewayId": "0016c001ff10a235", "rssi": -88, "snr": 4.5}],
        }
        self.world.emit(self.topic, payload)
