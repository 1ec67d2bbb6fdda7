"""The gateway: smart-building IoT edge gateway (MQTT in, events, occupancy engine, API)."""

__version__ = "0.1.0"
