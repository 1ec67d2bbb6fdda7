"""The heatmap endpoint and /metrics on a real Gateway (fake clock, real store and pipeline)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway.ingest import RawMessage
from gateway.runtime import Gateway
from tests.api.test_engine_api import T0, Clock, day, get, gw, iso  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]
Fixture = tuple[Gateway, Clock, TestClient]


def test_heatmap_by_space_and_type(gw: Fixture) -> None:  # noqa: F811
    g, clock, client = gw
    day(g, clock)
    q = {"from": iso(T0), "to": iso(T0 + 7200)}
    body = get(client, "/api/v1/utilization/heatmap", **q)
    # T0 is 09:00 UTC = 10:00 in Amsterdam (CET): the window covers local hours 10 and 11
    assert body["hours"] == [10, 11]
    assert body["available_s"] == [3600, 3600]
    rows = {r["id"]: r for r in body["rows"]}
    assert rows["orion"]["cells"] == [50.0, 0.0]  # 4 people 09:00-09:30 UTC
    assert rows["lounge"]["cells"] == [100.0, 0.0]  # 10 people 09:00-10:00 UTC
    assert rows["open-2"]["cells"] == [0.0, 0.0]
    assert rows["orion"]["label"] == "Orion"
    types = get(client, "/api/v1/utilization/heatmap", by="type", **q)
    by_type = {r["id"]: r for r in types["rows"]}
    # two meeting rooms: 1800 occupied of 2 x 3600 in hour 10
    assert by_type["meeting_room"]["spaces"] == 2
    assert by_type["meeting_room"]["cells"] == [25.0, 0.0]
    bad = client.get("/api/v1/utilization/heatmap", params={"by": "colour"})
    assert bad.status_code == 422
    anon = client.get("/api/v1/utilization/heatmap", headers={"Authorization": "Bearer x"})
    assert anon.status_code == 401


def _families(text: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    out: dict[str, list[tuple[str, dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text):
        out[fam.name] = [(s.name, s.labels, s.value) for s in fam.samples]
    return out


def test_metrics_parse_and_count(gw: Fixture) -> None:  # noqa: F811
    g, clock, client = gw
    day(g, clock)
    bad = [
        RawMessage("ref/counter/pc-orion", b"{not json", clock.t, qos=1, mid=90),
        RawMessage("ref/counter/pc-orion", b"x" * 70_000, clock.t, qos=1, mid=91),
    ]
    g.pipeline.process(bad)
    assert client.get("/api/v1/spaces").status_code == 200
    assert client.get("/api/v1/spaces/orion").status_code == 200
    assert client.get("/api/v1/spaces/nope").status_code == 404
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    fams = _families(r.text)
    assert fams["gateway_events_stored"][0][2] == 4
    assert fams["gateway_dead_letters"][0][2] == 2
    reasons = {s[1]["reason"]: s[2] for s in fams["gateway_dead_letters_by_reason"]}
    assert {k: v for k, v in reasons.items() if v} == {"not_json": 1.0, "oversized": 1.0}
    assert "unknown_device" in reasons  # every reason's series exists from the start
    spaces = {s[1]["state"]: s[2] for s in fams["gateway_spaces"]}
    # orion and lounge have counters saying 0 (vacant); the rest have no evidence yet
    assert spaces["vacant"] == 2 and spaces["occupied"] == 0
    assert sum(spaces.values()) == 8
    devices = {s[1]["online"]: s[2] for s in fams["gateway_devices"]}
    assert devices["true"] == 2  # the two counters have reported
    commits = {s[0]: s[2] for s in fams["gateway_batch_commit_seconds"]}
    assert commits["gateway_batch_commit_seconds_count"] == 5  # 4 in day(), 1 bad batch
    assert "gateway_engine_tick_seconds" in fams  # timed by the ticker (see the stream test)
    latency = fams["gateway_api_request_seconds"]
    counted = {
        (s[1]["route"], s[1]["status"]): s[2]
        for s in latency
        if s[0] == "gateway_api_request_seconds_count"
    }
    # by route template, not by path: /spaces/orion and /spaces/nope share one route
    assert counted[("/api/v1/spaces/{space_id}", "200")] == 1
    assert counted[("/api/v1/spaces/{space_id}", "404")] == 1
    assert counted[("/api/v1/spaces", "200")] == 1
    assert counted[("/static/{path}", "200")] == 1
    assert counted[("unmatched", "404")] == 1  # unknown paths cannot grow the label set
    assert client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 401


def test_grafana_dashboard_names_only_exposed_metrics(gw: Fixture) -> None:  # noqa: F811
    _, _, client = gw
    text = client.get("/metrics").text
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    exposed = {  # a family without samples yet (no request timed) still declares its names
        fam.name + sfx
        for fam in text_string_to_metric_families(text)
        for sfx in suffixes.get(fam.type, ("",))
    }
    board = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 10
    named = {m for e in exprs for m in re.findall(r"\bgateway_[a-z_]+", e)}
    assert named, "the dashboard names no gateway metric"
    assert named <= exposed, f"not exposed: {sorted(named - exposed)}"
