"""``gateway deploy acl``: the console wiring of the deployment helpers."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any


def cmd_deploy_acl(args: argparse.Namespace) -> int:
    from gateway.building import load_building
    from gateway.building.base_topic import with_base_topic
    from gateway.deploy.acl import check_users, plan_acl, render_acl
    from gateway.deploy.secrets import write_credentials, write_private
    from gateway.profiles import ProfileRegistry
    from gateway.settings import load_settings

    settings = load_settings(args.config)
    building, variables = with_base_topic(
        load_building(Path(args.building or settings.building)),
        settings.profile_variables,
        one_base=False,  # each bridge is granted its own base topic
    )
    registry = ProfileRegistry.load(settings.profiles_dir, variables)
    plan = plan_acl(building, registry, settings)
    ha_user = None if args.no_ha else args.ha_user
    users = check_users(plan, args.gateway_user, ha_user)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if ha_user is None:
        plan = replace(plan, ha_read=(), ha_write=())
    acl = render_acl(plan, args.gateway_user, ha_user or "")
    write_private(out / "acl", acl, 0o644)
    print(f"wrote {out / 'acl'}", file=sys.stderr)
    if not args.acl_only:
        creds = write_credentials(users, out)
        hashed = " and passwd" if (out / "passwd").exists() else ""
        print(f"wrote credentials{hashed} for {len(creds)} users in {out}", file=sys.stderr)
    return 0


def add_deploy_parser(sub: Any) -> None:
    """Register ``deploy`` and its subcommands on the top-level subparsers."""
    dep = sub.add_parser("deploy", help="deployment helpers")
    dsub = dep.add_subparsers(dest="deploy_command", required=True)
    acl = dsub.add_parser(
        "acl", help="Mosquitto ACL, passwords and device credentials from the building file"
    )
    acl.add_argument("--out-dir", required=True, help="folder for acl, passwd, credentials")
    acl.add_argument("--building", help="building file (default: GATEWAY_BUILDING)")
    acl.add_argument("--gateway-user", default="gateway", help="the gateway's MQTT username")
    acl.add_argument("--ha-user", default="homeassistant", help="Home Assistant's MQTT username")
    acl.add_argument("--no-ha", action="store_true", help="no user for Home Assistant")
    acl.add_argument("--acl-only", action="store_true", help="write the ACL, no passwords")
    acl.set_defaults(func=cmd_deploy_acl)
