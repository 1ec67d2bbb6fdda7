"""Console commands: run, demo, simulate, profiles check, profiles try."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.access.erasure_cli import add_members_parser
from gateway.access.token_cli import add_commands as add_token_commands
from gateway.admin_token import check_admin_token
from gateway.deploy.commands import add_deploy_parser
from gateway.errors import GatewayError
from gateway.export.commands import add_export_parser
from gateway.logtext import LineFormatter
from gateway.reports.cli import add_commands as add_report_commands
from gateway.settings import Settings, load_settings
from gateway.store.db_cli import add_db_parser

if TYPE_CHECKING:
    from gateway.runtime import Gateway
    from gateway.simulate.clock import SimClock

log = logging.getLogger("gateway")
DEMO_STORE = Path(".gateway/demo.db")  # the demo's own store, made afresh at each start


def _setup_logging(level: str) -> None:
    # every message one line: names, topics and errors that reach a log line are escaped
    handler = logging.StreamHandler()
    handler.setFormatter(LineFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
    logging.getLogger("amqtt").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin


def _serve(settings: Settings, *, clock: Callable[[], float] = time.time,
           demo: tuple[SimClock, float] | None = None) -> int:  # fmt: skip
    """Run the gateway and its API; with ``demo`` (its clock, when to go live) the
    simulator too, after the backfill."""
    import uvicorn

    from gateway.app import create_app
    from gateway.runtime import Gateway
    from gateway.runtime.gctune import tune_gc

    gw = Gateway(settings, clock=clock)
    gw.install_sighup()
    app = create_app(gw)
    url = f"http://{settings.api.host}:{settings.api.port}/"
    config = uvicorn.Config(
        app, host=settings.api.host, port=settings.api.port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    app.state.server = server  # live streams end when the server is told to exit
    stop_sim, ready = threading.Event(), threading.Event()
    if demo is not None:
        sign_in = gw.admin_token  # the demo prints its token to the operator's terminal
        threading.Thread(
            target=_simulate_when_ready,
            args=(gw, demo, server, url, stop_sim, ready),
            daemon=True,
            name="simulator",
        ).start()
    else:
        ready.set()
        if settings.admin_token is not None:
            sign_in = "the token in GATEWAY_ADMIN_TOKEN"
        else:
            sign_in = f"the token in {Path('.gateway/admin-token').resolve()}"
    threading.Thread(target=_announce, args=(server, ready, url, sign_in), daemon=True).start()
    tune_gc()
    server.run()
    stop_sim.set()
    return 0


def _announce(server: object, ready: threading.Event, url: str, sign_in: str) -> None:
    while not getattr(server, "started", False) or not ready.wait(0.1):
        time.sleep(0.1)
    print(
        f"\n  gateway is up: {url}\n"
        f"  API docs:      {url}docs\n"
        f"  sign in with:  {sign_in}\n"
        f"  try:           curl -H 'Authorization: Bearer <token>' {url}api/v1/spaces\n",
        flush=True,
    )


def _simulate_when_ready(
    gw: Gateway,
    demo: tuple[SimClock, float],
    server: object,
    url: str,
    stop: threading.Event,
    ready: threading.Event,
) -> None:
    from gateway.simulate import demo as demo_run

    clock, live_at = demo
    sim = demo_run.run(
        gw,
        clock,
        broker_url=gw.settings.mqtt.url,
        api_url=url,
        api_up=lambda: bool(getattr(server, "started", False)),
        stop=stop,
        live_at=live_at,
    )
    ready.set()
    sim.run(stop)


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    check_admin_token(settings)  # production start only: tests and the demo use short ones
    _setup_logging(settings.log_level)
    return _serve(settings)


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.building import load_building
    from gateway.simulate import backfill, demo
    from gateway.simulate.broker_process import start_broker
    from gateway.simulate.clock import SimClock

    speed, note = demo.check_speed(args.speed)
    if speed is None:
        print(f"gateway demo: {note}", file=sys.stderr)
        return 2
    if not 0 <= args.history_days <= backfill.MAX_DAYS:
        print(f"gateway demo: --history-days must be 0 to {backfill.MAX_DAYS}", file=sys.stderr)
        return 2
    settings = load_settings(args.config)
    if settings.database_url == Settings.model_fields["database_url"].default:
        settings = settings.model_copy(update={"database_url": demo.fresh_store(DEMO_STORE)})
    _setup_logging(settings.log_level)
    building = load_building(settings.building)
    live_at = demo.live_start(building)
    clock = SimClock(live_at - args.history_days * 86400, speed)
    when = datetime.fromtimestamp(live_at, building.site.tz).strftime("%a %d %b %Y %H:%M %Z")
    if note:
        print(f"demo: {note}")
    print(f"demo: simulated building at {speed:g}x speed; database {settings.database_url}")
    print(f"demo: the simulated now is {when}, after {args.history_days:g} days of history")
    broker = start_broker(settings.mqtt.url, settings.mqtt.embedded)
    if broker is not None:
        print(f"demo: the embedded broker runs in a process of its own at {settings.mqtt.url}")
    try:
        return _serve(settings, clock=clock, demo=(clock, live_at))
    finally:
        if broker is not None:
            broker.terminate()
            broker.join(5)


def cmd_simulate(args: argparse.Namespace) -> int:
    from gateway.building import load_building
    from gateway.simulate import Simulator

    settings = load_settings(args.config)
    _setup_logging(settings.log_level)
    building = load_building(args.building or settings.building)
    sim = Simulator(
        building,
        args.broker or settings.mqtt.url,
        speed=args.speed,
        seed=args.seed,
        truth=args.truth,
    )
    stop = threading.Event()
    try:
        sim.run(stop, duration_s=args.duration)
    except KeyboardInterrupt:
        stop.set()
    print(f"published {sim.published} messages")
    return 0


def cmd_profiles_check(args: argparse.Namespace) -> int:
    from gateway.profiles import check_profiles

    directory = Path(args.dir or load_settings(args.config).profiles_dir)
    results = check_profiles(directory)
    failed = 0
    for r in results:
        mark = "ok  " if r.ok else "FAIL"
        print(f"{mark} {r.profile:<20} {r.samples} samples")
        for p in r.problems:
            print(f"       {p}")
        failed += not r.ok
    print(f"{len(results) - failed} of {len(results)} profiles ok")
    return 1 if failed or not results else 0


def cmd_profiles_try(args: argparse.Namespace) -> int:
    from gateway.profiles import load_profile
    from gateway.profiles.trial import try_payload

    directory = Path(args.dir or load_settings(args.config).profiles_dir)
    path = next((p for p in directory.glob(f"{args.profile}.y*ml") if p.is_file()), None)
    if path is None:
        print(f"gateway: no profile {args.profile!r} in {directory}", file=sys.stderr)
        return 2
    data = sys.stdin.buffer.read() if args.payload == "-" else Path(args.payload).read_bytes()
    trial = try_payload(load_profile(path), data, args.topic)
    print(f"profile {trial.profile}, topic {trial.topic}")
    for line in trial.lines:
        print(f"  {line}")
    return 0 if trial.ok else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gateway", description=__doc__)
    p.add_argument("--config", help="YAML or JSON settings file (also GATEWAY_CONFIG)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="the daemon: ingest, engine and API").set_defaults(func=cmd_run)
    demo = sub.add_parser("demo", help="run plus the building simulator")
    demo.add_argument("--speed", type=float, default=60.0, help="simulated seconds per second")
    demo.add_argument(
        "--history-days", type=float, default=14.0, help="simulated days to backfill first"
    )
    demo.set_defaults(func=cmd_demo)
    sim = sub.add_parser("simulate", help="the building simulator alone, against any broker")
    sim.add_argument("--broker", help="mqtt://host:port (default: GATEWAY_MQTT__URL)")
    sim.add_argument("--building", help="building file (default: GATEWAY_BUILDING)")
    sim.add_argument("--speed", type=float, default=60.0)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--duration", type=float, help="wall seconds to run (default: until Ctrl-C)")
    sim.add_argument("--truth", help="write each space's true head count over the run to FILE")
    sim.set_defaults(func=cmd_simulate)
    add_token_commands(sub)
    add_report_commands(sub)
    prof = sub.add_parser("profiles", help="device profiles")
    psub = prof.add_subparsers(dest="profiles_command", required=True)
    check = psub.add_parser("check", help="validate every profile and run its samples")
    check.add_argument("--dir", help="profiles folder (default: GATEWAY_PROFILES_DIR)")
    check.set_defaults(func=cmd_profiles_check)
    trial = psub.add_parser("try", help="show the readings a payload gives, or why it is refused")
    trial.add_argument("profile", help="profile name, e.g. zigbee2mqtt")
    trial.add_argument("payload", help="payload file, or - for stdin")
    trial.add_argument("--topic", help="topic it arrived on (default: one the profile reads)")
    trial.add_argument("--dir", help="profiles folder (default: GATEWAY_PROFILES_DIR)")
    trial.set_defaults(func=cmd_profiles_try)
    add_export_parser(sub)
    add_deploy_parser(sub)
    add_db_parser(sub)
    add_members_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        rc: int = args.func(args)
    except GatewayError as err:
        print(f"gateway: {err}", file=sys.stderr)
        return 2
    return rc


if __name__ == "__main__":
    sys.exit(main())
