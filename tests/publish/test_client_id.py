"""The MQTT client id defaults to one of the site: two gateways on one broker keep their own
persistent sessions instead of knocking each other off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.runtime import Gateway
from gateway.settings import Settings, load_settings, site_client_id
from tests.support import FIXTURES, Broker, Publisher, wait_for


def test_the_default_client_id_is_the_sites_and_an_explicit_one_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    north, south = Settings().for_site("ams-north"), Settings().for_site("ams-south")
    assert north.mqtt.client_id == "gateway-ams-north"
    assert south.mqtt.client_id == "gateway-ams-south"
    assert Settings(mqtt={"client_id": "bms-gw"}).for_site("ams-north").mqtt.client_id == "bms-gw"
    monkeypatch.setenv("GATEWAY_MQTT__CLIENT_ID", "from-env")
    assert load_settings().for_site("ams-north").mqtt.client_id == "from-env"
    assert Settings().for_site("x").mqtt.url == Settings().mqtt.url  # the rest is unchanged


def test_site_ids_that_clean_alike_still_get_different_client_ids() -> None:
    assert site_client_id("ams/01") != site_client_id("ams_01") != site_client_id("ams 01")
    assert site_client_id("ams/01").startswith("gateway-ams_01_")


def _settings(tmp: Path, broker: Broker, site: str) -> Settings:
    text = (FIXTURES / "building-small.yaml").read_text().replace("id: test-site", f"id: {site}")
    (tmp / site).mkdir()
    path = tmp / site / "building.yaml"
    path.write_text(text)
    return load_settings(
        database_url=f"sqlite:///{tmp / site / 'gw.db'}",
        building=path,
        admin_token="client-id-test-token",
        mqtt={"url": broker.url},  # no client id: the site's
        access={"key_dir": str(tmp / site / "keys")},
        ingest={"writer_process": False},
    )


@pytest.fixture
def two_gateways(broker: Broker, tmp_path: Path) -> Iterator[tuple[Gateway, Gateway]]:
    made: list[Gateway] = []
    try:
        for site in ("cid-north", "cid-south"):
            g = Gateway(_settings(tmp_path, broker, site))
            g.start()
            made.append(g)
            wait_for(g.transport.connected.is_set)
        yield made[0], made[1]
    finally:
        for g in made:
            g.stop()


def test_two_gateways_with_default_settings_each_get_every_device_message(
    two_gateways: tuple[Gateway, Gateway], broker: Broker
) -> None:
    north, south = two_gateways
    ids = [
        north.transport.client._client_id.decode(),
        north.publisher.client.client._client_id.decode() if north.publisher else "",
        north.access.client.client._client_id.decode(),
        south.transport.client._client_id.decode(),
    ]
    assert ids == [
        "gateway-cid-north",
        "gateway-cid-north-out",
        "gateway-cid-north-access",
        "gateway-cid-south",
    ]
    before = (north.transport.received, south.transport.received)
    pub = Publisher(broker.port, client_id="cid-device")
    try:
        # each gateway's persistent session gets its own copy; one shared client id would
        # be one session, and only one of the two would ever see the message
        pub.publish("ref/counter/pc-orion", {"count": 2})
        wait_for(
            lambda: north.transport.received > before[0] and south.transport.received > before[1]
        )
    finally:
        pub.close()
    assert north.transport.connected.is_set() and south.transport.connected.is_set()
