"""What a webhook delivery's body says: the JSON envelope, or a Slack or Teams chat message.

``json`` (the default) sends the envelope ``{"id", "kind", "time", "site", "payload"}``.
``slack`` sends an incoming-webhook message (``{"text", "blocks"}``, Slack's "Sending messages
using incoming webhooks"); ``teams`` an Adaptive Card in a message (``{"type": "message",
"attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", ...}]}``, as
Microsoft's "Create Incoming Webhooks" and Workflows' "post card in a channel" take it). A
chat body is one short sentence in the site's time zone and a link to the dashboard:
"Orion (meeting room, 8 seats) released: nobody came within 10 min of the 14:00 booking".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

FORMATS = ("json", "slack", "teams")


@dataclass(frozen=True, slots=True)
class SpaceInfo:
    name: str
    type: str
    capacity: int | None


@dataclass(frozen=True, slots=True)
class Context:
    """What a sentence needs of the building: names, the time zone, the grace, the link."""

    site: str
    tz: tzinfo
    grace_s: float
    link: str
    space: Callable[[str], SpaceInfo | None]


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def envelope(did: str, kind: str, ts: float, site: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"id": did, "kind": kind, "time": iso(ts), "site": site, "payload": payload}


def _space(ctx: Context, sid: Any) -> str:
    info = ctx.space(str(sid)) if sid is not None else None
    if info is None:
        return str(sid)
    if info.capacity:
        seats = f"{info.capacity} seat{'' if info.capacity == 1 else 's'}"
        return f"{info.name} ({info.type.replace('_', ' ')}, {seats})"
    return f"{info.name} ({info.type.replace('_', ' ')})"


def _hm(ctx: Context, ts: Any) -> str:
    return datetime.fromtimestamp(float(ts), ctx.tz).strftime("%H:%M")


def sentence(kind: str, p: dict[str, Any], ctx: Context) -> str:  # size: one line per kind
    """The short human sentence of a finding, for chat."""
    if kind == "booking_released":
        grace = f"{ctx.grace_s / 60:g} min"
        return (
            f"{_space(ctx, p.get('space'))} released: nobody came within {grace} "
            f"of the {_hm(ctx, p['start'])} booking"
        )
    if kind == "space_idle":
        return f"{_space(ctx, p.get('space'))} idle since {_hm(ctx, p['start'])}"
    if kind == "space_idle_ended":
        return f"{_space(ctx, p.get('space'))} in use again at {_hm(ctx, p['end'])}"
    if kind in ("alert_raised", "device_offline"):
        return f"Alert: {p.get('message') or p.get('kind')}"
    if kind in ("alert_cleared", "device_online"):
        return f"Cleared: {str(p.get('kind', '')).replace('_', ' ')} on {p.get('subject')}"
    if kind == "work_order_opened":
        return f"Work order #{p.get('id')} opened: {p.get('title') or p.get('subject')}"
    if kind == "work_order_changed":
        who = f" ({p['assignee']})" if p.get("assignee") else ""
        return f"Work order #{p.get('id')} on {p.get('subject')} is now {p.get('status')}{who}"
    if kind == "recommendation_changed":
        added = p.get("added") or []
        head = f"Recommendations changed: {len(added)} new, {len(p.get('removed') or [])} gone"
        if added:
            a = added[0]
            head += f"; {_space(ctx, a.get('space'))}: {a.get('suggestion') or a.get('kind')}"
        return head
    if kind == "test":
        return f"Test delivery from the gateway of site {ctx.site}"
    return f"{kind.replace('_', ' ')} at {ctx.site}"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(text: str, link: str) -> dict[str, Any]:
    t = _slack_escape(text)
    return {
        "text": f"{t} <{link}|Open the dashboard>",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": t}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Dashboard>"}]},
        ],
    }


def teams(text: str, link: str) -> dict[str, Any]:
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": text, "wrap": True}],
        "actions": [{"type": "Action.OpenUrl", "title": "Open the dashboard", "url": link}],
    }
    return {
        "type": "message",
        "summary": text[:100],
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def body(fmt: str, env: dict[str, Any], ctx: Context) -> str:
    """The exact text POSTed for the envelope ``env`` in format ``fmt``."""
    if fmt == "json":
        return json.dumps(env, separators=(",", ":"), sort_keys=True, default=str)
    text = sentence(env["kind"], env["payload"], ctx)
    out = slack(text, ctx.link) if fmt == "slack" else teams(text, ctx.link)
    return json.dumps(out, separators=(",", ":"))
