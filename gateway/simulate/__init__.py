"""A building simulator that publishes realistic device traffic through a real MQTT broker.

How it fits together (simulated time drives everything; payloads carry no ``ts``):

- ``core``: the simulated clock (a discrete-event scheduler), the outbox, each space's head count;
- ``people``: a seeded plan per space and day (arrivals, meetings, lunch, phone calls, lounge
  crowds), clipped to the site's business hours, moving the head counts;
- ``sensors``, ``doors``, ``env``, ``printers``: devices that watch the head counts and the air
  and speak their profile's payloads (docs/reference-devices.md);
- ``traffic``: picks a behaviour per device binding (``profile`` plus the free ``model`` label)
  and advances the clock, with no I/O, so tests can drive it directly;
- ``bookings``: the meeting rooms' planned meetings booked ahead (some no-shows), sent to the
  gateway's bookings API by ``booking_api``; ``showcase``: what a demo's first minutes play;
- ``simulator``: :class:`Simulator`, which publishes the traffic at ``speed`` x real time, QoS 1;
- ``clock``, ``backfill``, ``demo``: ``gateway demo`` -- one simulated clock for the gateway and
  the simulator, history played through the broker in lock-step, then live (docs/demo.md).

To simulate a new device kind: write a ``SimDevice`` subclass that listens to its space
(``world.listen``) or schedules itself (``world.clock.at``) and calls ``world.emit``, then pick it
in ``Traffic._make``.
"""

from gateway.broker_url import BrokerUrl, parse_broker_url
from gateway.simulate.simulator import Simulator, default_start
from gateway.simulate.traffic import Traffic

__all__ = ["BrokerUrl", "Simulator", "Traffic", "default_start", "parse_broker_url"]
