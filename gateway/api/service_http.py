"""HTTP mapping of the member services' domain errors, and shared field types of their routes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import HTTPException, Path, status
from pydantic import AfterValidator, BaseModel, Field

from gateway.api.validation import field_error
from gateway.facility.service_errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    Unavailable,
)
from gateway.timefmt import epoch as epoch  # the routes take them from here
from gateway.timefmt import iso as iso

STATUS = {
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
    Forbidden: status.HTTP_403_FORBIDDEN,
    Unavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}

# the year range a time may name: beyond it a time cannot be shown back as ISO 8601
MIN_TS, MAX_TS = 0.0, 32_503_680_000.0  # 1970-01-01 .. 3000-01-01 UTC


class ErrorOut(BaseModel):
    detail: str


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route may answer."""
    return {c: {"model": ErrorOut} for c in codes}


@contextmanager
def http_errors() -> Iterator[None]:
    """Turn a ServiceError raised inside into the HTTP error it stands for."""
    try:
        yield
    except Invalid as err:
        raise field_error(err.loc, str(err)) from err
    except ServiceError as err:
        code = next((c for t, c in STATUS.items() if isinstance(err, t)), 400)
        raise HTTPException(code, str(err)) from err


def _in_range(dt: datetime) -> datetime:
    if not MIN_TS <= epoch(dt) < MAX_TS:
        raise ValueError("must be between 1970-01-01 and 3000-01-01")
    return dt


Time = Annotated[datetime, AfterValidator(_in_range)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
# PostgreSQL refuses NUL in text: free text may hold anything else
Text = r"^[^\x00]*$"
PathId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")]
PathNumber = Annotated[int, Path(ge=1, le=2**62)]  # a 64-bit row id
