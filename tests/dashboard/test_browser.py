"""The dashboard in a real headless Chromium against a real gateway process and broker."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from gateway.store import create_db_engine, init_db
from gateway.store.rollups import BINS, DAY_SUMS, DAYS
from tests.dashboard.demo import CHROMIUM, launch_chromium, sign_in
from tests.support import ROOT, Broker, GatewayProcess, Publisher, wait_for

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
    reason=f"no chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)",
)
TZ = ZoneInfo("Europe/Amsterdam")  # the test building's time zone
STABLE_SHOTS = ROOT / "test-output" / "dashboard"  # kept after the run, for people to look at


def seed_rollups(db_url: str) -> int:
    """Yesterday's rollups for orion: the hour from 10:00 local fully used; returns that hour."""
    db = create_db_engine(db_url)
    init_db(db)
    y = datetime.now(TZ).date().toordinal() - 1
    day = datetime.fromordinal(y).replace(tzinfo=TZ)
    rows = []
    for minute in (0, 15, 30, 45):
        start = day.replace(hour=10, minute=minute).timestamp()
        rows.append(
            {
                "site": "test-site",
                "space": "orion",
                "start": start,
                "length": 900,
                "day": day.date().isoformat(),
                "occupied_s": 900.0,
                "known_s": 900.0,
                "counted_s": 900.0,
                "person_s": 2700.0,
                "peak": 3,
                "hist": None,
            }
        )
    sums = {k: sum(float(r[k]) for r in rows) for k in DAY_SUMS}  # type: ignore[arg-type]
    daily = {"site": "test-site", "space": "orion", "day": day.date().isoformat()}
    daily |= {"start": day.timestamp(), "peak": 3, **sums}
    with db.begin() as conn:  # as the engine writes them: the bins and their day's sums
        conn.execute(insert(BINS), rows)
        conn.execute(insert(DAYS), [daily])
    db.dispose()
    return 10


@pytest.fixture(scope="module")
def site(broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("dashboard")
    hour = seed_rollups(f"sqlite:///{work}/gateway.db")
    gp = GatewayProcess(
        broker.url,
        work,
        GATEWAY_OCCUPANCY__IDLE_AFTER_S="1",  # vacant spaces turn idle at once
        GATEWAY_BOOKINGS__GRACE_S="2",  # bookings are decided two seconds after they start
    ).start()
    pub = Publisher(broker.port, client_id=f"dashboard-test-{gp.port}")
    pub.publish("ref/counter/pc-orion", {"count": 3})
    pub.publish("ref/counter/pc-lounge", {"count": 0})
    pub.publish("ref/env/env-open-2", {"co2": 1500, "temperature": 22.0, "humidity": 45})
    wait_for(lambda: gp.get("/api/v1/spaces/lounge")["idle"], timeout=10)
    wait_for(lambda: gp.get("/api/v1/spaces/orion")["state"] == "occupied", timeout=10)
    try:
        yield {"gw": gp, "pub": pub, "hour": hour, "work": work}
    finally:
        pub.close()
        gp.stop()


@pytest.fixture(scope="module")
def browser(site: dict[str, Any]) -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def until(page: Any, expression: str, timeout: float = 30.0) -> None:
    """Wait until ``expression`` is true in the page. Playwright's ``wait_for_function``
    evaluates a string with ``eval``, which the dashboard's Content-Security-Policy forbids;
    ``evaluate`` runs over the debugging protocol, outside the page's policy."""
    wait_for(lambda: page.evaluate(expression), timeout=timeout)


def csp_violations(page: Any) -> list[str]:
    """Console reports of anything the page's Content-Security-Policy blocked."""
    seen: list[str] = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return seen


def look(page: Any, space: str) -> str:
    return str(page.get_attribute(f'.tile[data-space="{space}"]', "data-look"))


def shoot(page: Any, out: Path, name: str) -> Path:
    path = out / name
    page.screenshot(path=str(path), full_page=True)
    STABLE_SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, STABLE_SHOTS / name)
    return path


def test_dashboard_live(site: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    gp: GatewayProcess = site["gw"]
    url = f"http://127.0.0.1:{gp.port}/"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    blocked = csp_violations(page)
    sign_in(page, url, gp.TOKEN)
    page.wait_for_selector('.tile[data-space="orion"]')
    # tiles show the live states: counters say occupied (3 of 8) and vacant-and-idle;
    # a space whose only device measures air has no occupancy evidence: unknown
    assert look(page, "orion") == "occupied"
    assert page.inner_text('.tile[data-space="orion"] .count') == "3/8"
    assert look(page, "lounge") == "idle"
    assert look(page, "open-2") == "unknown"
    assert "idle for" in page.inner_text('.tile[data-space="lounge"]')
    assert page.inner_text("#free").count("Lounge") == 1  # free now
    # the token stays in the session, never in the URL
    assert gp.TOKEN not in page.url
    assert page.evaluate("sessionStorage.getItem('gateway-token')") == gp.TOKEN
    until(page, "document.getElementById('live').textContent === 'live'")

    # a sensor message changes a tile's colour live, without a reload
    page.evaluate("window.__sameDocument = true")
    before = page.eval_on_selector(
        '.tile[data-space="lounge"]', "e => getComputedStyle(e).backgroundColor"
    )
    site["pub"].publish("ref/counter/pc-lounge", {"count": 5})
    page.wait_for_selector('.tile[data-space="lounge"][data-look="occupied"]', timeout=10_000)
    assert page.inner_text('.tile[data-space="lounge"] .count') == "5/15"
    after = page.eval_on_selector(
        '.tile[data-space="lounge"]', "e => getComputedStyle(e).backgroundColor"
    )
    assert before != after
    site["pub"].publish("ref/counter/pc-orion", {"count": 0})
    page.wait_for_selector('.tile[data-space="orion"]:not([data-look="occupied"])', timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True

    # the heatmap renders the stored rollups: yesterday 10:00-11:00 orion was fully used
    page.wait_for_selector('#heatmap tr[data-row="orion"] td.cell[data-pct]')
    api = gp.get("/api/v1/utilization/heatmap", params={"by": "space"})
    expect = dict(
        zip(api["hours"], next(r for r in api["rows"] if r["id"] == "orion")["cells"], strict=True)
    )
    cells = page.eval_on_selector_all(
        '#heatmap tr[data-row="orion"] td.cell',
        "tds => tds.map(td => td.dataset.pct === undefined ? null : Number(td.dataset.pct))",
    )
    assert cells == [expect[h] for h in api["hours"]]
    assert expect[site["hour"]] > 0 and max(cells) == expect[site["hour"]]

    # the bands read the same rollups: orion's used % over the window is above zero
    orion_used = page.inner_text('#bands tr[data-space="orion"] td')
    assert orion_used not in ("0%", "–"), orion_used
    # air quality: CO2 1500 ppm in the open area is out of range, its temperature is not
    page.wait_for_selector('#air tr[data-space="open-2"] td.bad[data-q="co2_ppm"]')
    assert (
        page.get_attribute('#air tr[data-space="open-2"] td[data-q="temperature_c"]', "class")
        == "ok"
    )
    # devices that never reported count as offline
    assert "z-orion-motion" in page.inner_text("#offline")

    # notices arrive live; the alerts panel shows only where the alerts service answers
    if page.is_visible("#alerts") and "co2" in page.inner_text("#alerts").lower():
        site["pub"].publish("ref/env/env-open-2", {"co2": 600})
        page.wait_for_selector('#notices li[data-notice="alert_cleared"]', timeout=10_000)
        until(page, "!document.getElementById('alerts').textContent.toLowerCase().includes('co2')")
        assert page.is_visible("#notices")

    # floors are shown by the names the building file gives them, not by their ids
    headings = page.eval_on_selector_all(
        "#floors section.floor h3", "hs => hs.map(h => h.firstChild.textContent)"
    )
    assert headings == ["Ground floor", "First floor"]
    floor_options = page.eval_on_selector_all(
        "#floor option", "os => os.map(o => [o.value, o.textContent])"
    )
    assert floor_options == [["", "all floors"], ["1", "Ground floor"], ["2", "First floor"]]
    assert "(First floor)" in str(page.get_attribute('.tile[data-space="lounge"]', "title"))

    # filters by floor and type
    page.select_option("#floor", "2")
    assert page.query_selector('.tile[data-space="orion"]') is None
    assert page.query_selector('.tile[data-space="lounge"]') is not None
    page.select_option("#floor", "")
    page.select_option("#type", "meeting_room")
    spaces = page.eval_on_selector_all(".tile", "ts => ts.map(t => t.dataset.space)")
    assert sorted(spaces) == ["focus", "orion"]
    page.select_option("#type", "")
    shot = shoot(page, tmp_path, "dashboard.png")
    assert shot.stat().st_size > 20_000
    assert not errors, errors
    assert not blocked, blocked  # the dashboard runs under its Content-Security-Policy
    page.close()


def test_dashboard_phone_and_bad_token(site: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    gp: GatewayProcess = site["gw"]
    url = f"http://127.0.0.1:{gp.port}/"
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    sign_in(phone, url, "not-a-token")
    until(phone, "document.getElementById('login-error').textContent.length > 0")
    assert phone.evaluate("sessionStorage.getItem('gateway-token')") is None
    phone.fill("#token", gp.TOKEN)
    phone.click("#login button")
    phone.wait_for_selector('.tile[data-space="orion"]')
    phone.wait_for_selector("#heatmap table")
    time.sleep(0.2)  # let the panels settle before measuring
    # one column on a phone: nothing wider than the screen but the heatmap's own scroller
    width = phone.evaluate("document.documentElement.scrollWidth")
    wide = phone.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 391)"
        ".slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"
    )
    assert width <= 390, (width, wide)
    left = phone.eval_on_selector(".col-side", "e => e.getBoundingClientRect().left")
    assert left < 40  # the side panels sit below the tiles, not beside them
    shoot(phone, tmp_path, "dashboard-phone.png")
    phone.close()


def test_a_booking_nobody_could_observe_is_shown_unverified(
    site: dict[str, Any], browser: Any
) -> None:
    """focus's only sensor (a PIR) never reported: its room is unknown, so a booking there is
    neither released nor checked in, and the dashboard says so."""
    gp: GatewayProcess = site["gw"]
    assert gp.get("/api/v1/spaces/focus")["state"] == "unknown"
    now = time.time()

    def at(t: float) -> str:
        return datetime.fromtimestamp(t, UTC).isoformat()

    gp.http.post("/api/v1/members", json={"id": "m-9", "name": "Nine"})
    body = {"space": "focus", "member": "m-9", "start": at(now + 1), "end": at(now + 1800)}
    r = gp.http.post("/api/v1/bookings", json=body)
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    done = wait_for(lambda: (b := gp.get(f"/api/v1/bookings/{bid}"))["outcome"] and b, timeout=15)
    assert (done["outcome"], done["status"]) == ("unverified", "booked")
    rate = gp.get("/api/v1/bookings/no-show-rate")
    assert rate["unverified"] >= 1 and rate["released"] == 0
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, f"http://127.0.0.1:{gp.port}/", gp.TOKEN)
    page.wait_for_selector(f'#free li[data-booking="{bid}"][data-outcome="unverified"]')
    row = page.inner_text(f'#free li[data-booking="{bid}"]')
    assert "no live sensor" in row
    assert row.startswith("Focus room ")  # the space's name, not its id
    page.close()
