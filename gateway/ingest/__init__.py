"""Ingest: the MQTT transport, the bounded hand-off queue, the worker that decodes and commits."""

from gateway.ingest.messages import RawMessage
from gateway.ingest.pipeline import Pipeline

__all__ = ["Pipeline", "RawMessage"]
