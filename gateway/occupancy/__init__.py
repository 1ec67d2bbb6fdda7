"""The occupancy engine: each space's live state from its sensors, updated as things change."""

from gateway.occupancy.engine import OccupancyEngine, SpaceView, Transition

__all__ = ["OccupancyEngine", "SpaceView", "Transition"]
