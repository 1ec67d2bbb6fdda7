"""``gateway export brick`` and ``export events``: the console wiring of the exports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gateway.export.events import add_events_parser


def cmd_export_brick(args: argparse.Namespace) -> int:
    from gateway.building import load_building
    from gateway.building.base_topic import with_base_topic
    from gateway.export.brick import to_turtle
    from gateway.profiles import ProfileRegistry
    from gateway.settings import load_settings

    settings = load_settings(args.config)
    building, variables = with_base_topic(
        load_building(Path(args.building or settings.building)),
        settings.profile_variables,
        one_base=False,  # nothing is decoded here
    )
    registry = ProfileRegistry.load(settings.profiles_dir, variables)
    stored = {} if args.no_store else _stored_quantities(settings.database_url, building.site.id)
    text = to_turtle(building, registry, stored)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _stored_quantities(url: str, site: str) -> dict[str, list[str]]:
    """Per device, the quantities the store has readings for (empty when there is no store)."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import col

    from gateway.store import create_db_engine
    from gateway.store.tables import Device

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return {}
    try:
        engine = create_db_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(
                select(col(Device.id), col(Device.readings)).where(col(Device.site) == site)
            ).all()
        engine.dispose()
    except SQLAlchemyError:
        return {}
    return {r[0]: sorted(r[1] or {}) for r in rows if r[1]}


def add_export_parser(sub: Any) -> None:
    """Register ``export`` and its subcommands on the top-level subparsers."""
    exp = sub.add_parser("export", help="export the building or the stored events")
    esub = exp.add_subparsers(dest="export_command", required=True)
    brick = esub.add_parser("brick", help="the building as a Brick Schema model (Turtle)")
    brick.add_argument("--output", "-o", help="file to write (default: stdout)")
    brick.add_argument("--building", help="building file (default: GATEWAY_BUILDING)")
    brick.add_argument(
        "--no-store", action="store_true", help="do not read the quantities seen in the store"
    )
    brick.set_defaults(func=cmd_export_brick)
    add_events_parser(esub)
