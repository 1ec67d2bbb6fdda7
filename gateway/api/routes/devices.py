"""Devices: bound and discovered, with availability and latest readings.

A device id may hold ``/`` (a zigbee2mqtt friendly name grouped by floor and room,
``floor1/room2/pir``), sent as is or as ``%2F``: the routes read it with the ``path``
converter. ``/{device_id}/binding`` is registered before ``/{device_id}`` so its suffix is
matched first; a GET of ``.../binding`` still fetches a device whose name ends that way.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from gateway.api.deps import AdminOnly, Auth, ClockDep, LiveDep, ReconfigureDep
from gateway.api.paging import found
from gateway.api.schemas import DevicePublic, DevicesPublic, Reading, iso
from gateway.errors import ConfigError
from gateway.state.devices import DeviceLive

router = APIRouter(prefix="/devices", tags=["devices"], dependencies=[Auth])


def device_public(d: DeviceLive, online: bool) -> DevicePublic:
    readings = {}
    for q, r in d.readings.items():
        ts = iso(float(r["ts"]))
        assert ts is not None
        readings[q] = Reading(value=r["value"], unit=r.get("unit"), ts=ts)
    return DevicePublic(
        id=d.id,
        profile=d.profile,
        space=d.space,
        bound=d.bound,
        online=online,
        last_seen=iso(d.last_seen),
        readings=readings,
    )


@router.get("", response_model=DevicesPublic)
def list_devices(
    live: LiveDep,
    clock: ClockDep,
    space: str | None = None,
    profile: str | None = None,
    bound: bool | None = None,
    online: bool | None = None,
) -> DevicesPublic:
    """Every device; ``bound=false`` lists devices that publish but are not in the building."""
    now = clock()
    data = [
        device_public(d, live.is_online(d, now))
        for d in live.devices()
        if (space is None or d.space == space)
        and (profile is None or d.profile == profile)
        and (bound is None or d.bound == bound)
    ]
    if online is not None:
        data = [d for d in data if d.online == online]
    return DevicesPublic(data=data, count=len(data))


class BindingIn(BaseModel):
    """Where a device is: its space (null for none) and, optionally, its profile."""

    space: str | None = Field(description="space id, or null for a device in no space")
    profile: str | None = Field(
        default=None, description="profile name; defaults to the one that read the device"
    )


@router.put(
    "/{device_id:path}/binding",
    response_model=DevicePublic,
    dependencies=[AdminOnly],
    responses={
        404: {"description": "no such space"},
        409: {"description": "the building file binds this device"},
        422: {"description": "unknown profile"},
    },
)
async def bind_device(
    device_id: str, body: BindingIn, live: LiveDep, clock: ClockDep, re: ReconfigureDep
) -> DevicePublic:
    """Bind a device (typically a discovered one, ``bound=false``) to a space. The binding is
    kept in the store and laid over the building file; its later messages become events."""
    try:
        bound = await run_in_threadpool(re.bind_device, device_id, body.space, body.profile)
    except KeyError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no space '{body.space}'") from err
    except ValueError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(err)) from err
    except ConfigError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    return device_public(bound, live.is_online(bound, clock()))


@router.get(
    "/{device_id:path}",
    response_model=DevicePublic,
    responses={404: {"description": "no such device"}},
)
def get_device(device_id: str, live: LiveDep, clock: ClockDep) -> DevicePublic:
    """One device."""
    d = found(live.device(device_id), f"no device '{device_id}'")
    return device_public(d, live.is_online(d, clock()))
