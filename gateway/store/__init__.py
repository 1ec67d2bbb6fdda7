"""The local store: engine factory, tables, batch writer and the queries the API reads."""

from gateway.store.db import create_db_engine
from gateway.store.migrate import init_db
from gateway.store.tables import DeadLetter, Device, Event, Floor, Site, Space
from gateway.store.writer import BatchWriter

__all__ = [
    "BatchWriter",
    "DeadLetter",
    "Device",
    "Event",
    "Floor",
    "Site",
    "Space",
    "create_db_engine",
    "init_db",
]
