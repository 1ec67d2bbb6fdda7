"""The building file's optional ``plans`` and ``members`` sections (who may enter where).

::

    plans:
      - {id: flex, name: Flex desk, space_types: [hot_desk, open_area, lounge]}
      - {id: office-101, name: Office 101 team, spaces: [f1-office-101], floors: [f2]}
    members:
      - {id: m-0042, name: Ada, company: Acme, plan: flex, credentials: ["04A1B2C3"]}

A plan covers the spaces it names, every space on the floors it names and every space of the
types it names. Credentials are card numbers, QR or PIN codes as the door reads them; the
gateway keeps only their hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.building.marked import MarkedDict
from gateway.building.model import SPACE_TYPES, Floor, MemberSpec, PlanSpec, Space

if TYPE_CHECKING:
    from gateway.building.reader import Reader

PLAN_KEYS = ("id", "name", "spaces", "floors", "space_types")
MEMBER_KEYS = ("id", "name", "company", "plan", "credentials")


def _strings(
    ctx: Reader, m: MarkedDict, key: str, path: str, allowed: set[str] | None
) -> list[str]:
    items = ctx.seq(m, key, path)
    out: list[str] = []
    for k, v in enumerate(items):
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str) or not v.strip():
            ctx.fail(
                items.lines[k], f"{path}.{key}[{k}]", f"expected a non-empty string, got {v!r}"
            )
        if allowed is not None and v not in allowed:
            ctx.fail(items.lines[k], f"{path}.{key}[{k}]", f"unknown {key[:-1]} {v!r}")
        out.append(v)
    return out


def parse_plans(
    ctx: Reader, root: MarkedDict, spaces: dict[str, Space], floors: tuple[Floor, ...]
) -> dict[str, PlanSpec]:
    plans: dict[str, PlanSpec] = {}
    for path, m, pid in ctx.entries(root, "plans", PLAN_KEYS, "plan"):
        plans[pid] = PlanSpec(
            id=pid,
            name=ctx.text(m, "name", path, pid) or pid,
            spaces=tuple(_strings(ctx, m, "spaces", path, set(spaces))),
            floors=tuple(_strings(ctx, m, "floors", path, {f.id for f in floors})),
            space_types=tuple(_strings(ctx, m, "space_types", path, set(SPACE_TYPES))),
        )
    return plans


def parse_members(
    ctx: Reader, root: MarkedDict, plans: dict[str, PlanSpec]
) -> dict[str, MemberSpec]:
    members: dict[str, MemberSpec] = {}
    seen_credentials: dict[str, str] = {}
    for path, m, mid in ctx.entries(root, "members", MEMBER_KEYS, "member"):
        plan = ctx.text(m, "plan", path, None)
        if plan is not None and plan not in plans:
            ctx.fail(m.lines["plan"], f"{path}.plan", f"expected the id of a plan, got {plan!r}")
        creds = _strings(ctx, m, "credentials", path, None)
        for c in creds:
            if c in seen_credentials:
                # the value itself stays out of the message: it is a secret
                ctx.fail(
                    m.lines["credentials"],
                    f"{path}.credentials",
                    f"a credential is already given to member {seen_credentials[c]!r}",
                )
            seen_credentials[c] = mid
        members[mid] = MemberSpec(
            id=mid,
            name=ctx.text(m, "name", path, mid) or mid,
            company=ctx.text(m, "company", path, None),
            plan=plan,
            credentials=tuple(creds),
        )
    return members
