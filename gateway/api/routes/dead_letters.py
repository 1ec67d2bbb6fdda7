"""Dead letters: messages the gateway could not read, with the reason."""

from __future__ import annotations

import base64

from fastapi import APIRouter
from sqlmodel import col, select

from gateway.api.deps import Auth, ConfigDep, SessionDep
from gateway.api.paging import Limit, Offset, page
from gateway.api.schemas import DeadLetterPublic, DeadLettersPublic, iso
from gateway.store.tables import DeadLetter

router = APIRouter(prefix="/dead-letters", tags=["dead letters"], dependencies=[Auth])


def _payload(raw: bytes) -> tuple[str, str]:
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


@router.get("", response_model=DeadLettersPublic)
def list_dead_letters(
    config: ConfigDep,
    session: SessionDep,
    limit: Limit = 100,
    offset: Offset = 0,
    topic: str | None = None,
    device: str | None = None,
) -> DeadLettersPublic:
    """Newest first."""
    q = select(DeadLetter).where(DeadLetter.site == config.get().building.site.id)
    if topic is not None:
        q = q.where(DeadLetter.topic == topic)
    if device is not None:
        q = q.where(DeadLetter.device == device)
    rows, total = page(session, q, [col(DeadLetter.id).desc()], limit, offset)
    data = []
    for r in rows:
        payload, enc = _payload(r.payload)
        t = iso(r.received_at)
        assert r.id is not None and t is not None
        data.append(
            DeadLetterPublic(
                id=r.id,
                topic=r.topic,
                payload=payload,
                payload_encoding=enc,  # type: ignore[arg-type]
                reason=r.reason,
                profile=r.profile,
                device=r.device,
                time=t,
            )
        )
    return DeadLettersPublic(data=data, count=len(data), total=total)
