"""The setback policy through a recording ``CommandSink``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.publish.commands import SetbackPolicy


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def send(self, device_id: str, command_name: str, params: Mapping[str, Any]) -> None:
        self.sent.append((device_id, command_name, dict(params)))


def s(state: str, idle: bool = False) -> dict[str, Any]:
    return {"state": state, "idle": idle, "occupancy": None}


def test_setback_on_idle_and_restore_on_occupied() -> None:
    rec = Recorder()
    p = SetbackPolicy(rec)
    assert p.observe("orion", s("occupied"), s("vacant"), "t1") is None  # vacant is not idle
    assert p.observe("orion", s("vacant"), s("vacant", idle=True), "t2") == "setback"
    assert p.observe("orion", s("vacant", True), s("vacant", True), "t3") is None  # no repeat
    assert p.observe("orion", s("vacant", True), s("occupied"), "t4") == "restore"
    assert rec.sent == [
        ("orion", "setback", {"space": "orion", "reason": "idle", "ts": "t2"}),
        ("orion", "restore", {"space": "orion", "reason": "occupied", "ts": "t4"}),
    ]


def test_no_restore_when_never_set_back_since_the_last_restore() -> None:
    rec = Recorder()
    p = SetbackPolicy(rec)
    # Unknown since start: the first occupancy restores, in case a previous run set it back.
    assert p.observe("focus", None, s("occupied"), "t1") == "restore"
    assert p.observe("focus", s("occupied"), s("vacant"), "t2") is None
    assert p.observe("focus", s("vacant"), s("occupied"), "t3") is None  # short gap, no setback
    assert [c for _, c, _ in rec.sent] == ["restore"]


def test_targets_and_a_failing_sink_do_not_break_the_caller() -> None:
    class Boom:
        def send(self, device_id: str, command_name: str, params: Mapping[str, Any]) -> None:
            raise RuntimeError("device gone")

    p = SetbackPolicy(Boom(), targets=lambda sid: (f"{sid}-hvac", f"{sid}-lights"))
    assert p.observe("orion", s("vacant"), s("vacant", True), "t") == "setback"

    rec = Recorder()
    p = SetbackPolicy(rec, targets=lambda sid: (f"{sid}-hvac", f"{sid}-lights"))
    p.observe("orion", s("vacant"), s("vacant", True), "t")
    assert [d for d, _, _ in rec.sent] == ["orion-hvac", "orion-lights"]
