"""``gateway tokens create|revoke|list``: manage API tokens in the site's store."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from gateway.access.tokens import TokenError, TokenStore
from gateway.building import load_building
from gateway.errors import ConfigError
from gateway.settings import load_settings
from gateway.store import create_db_engine, init_db


def _store(args: argparse.Namespace) -> TokenStore:
    settings = load_settings(args.config)
    site = load_building(settings.building).site.id
    db = create_db_engine(settings.database_url, settings.database_busy_timeout_ms)
    init_db(db)
    return TokenStore(db, site)


def _when(t: float | None) -> str:
    return "-" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cmd_create(args: argparse.Namespace) -> int:
    try:
        info, raw = _store(args).create(args.role, args.name)
    except TokenError as err:
        raise ConfigError(str(err)) from err
    # the token goes to stdout alone so scripts can capture it; it is not kept anywhere
    print(raw)
    print(f"created token {info.id} ({info.name}, role {info.role}); it is shown only once")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    try:
        info = _store(args).revoke(args.token)
    except TokenError as err:
        raise ConfigError(str(err)) from err
    print(f"revoked token {info.id} ({info.name}, role {info.role})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    rows = _store(args).list(include_revoked=args.all)
    print(f"{'id':<16} {'name':<24} {'role':<6} {'created':<21} revoked")
    for t in rows:
        print(
            f"{t.id:<16} {t.name:<24} {t.role:<6} {_when(t.created_at):<21} {_when(t.revoked_at)}"
        )
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``tokens`` and its subcommands on the console's subparsers."""
    tok = sub.add_parser("tokens", help="API tokens: create, revoke, list")
    tsub = tok.add_subparsers(dest="tokens_command", required=True)
    create = tsub.add_parser("create", help="create a token and print it (once)")
    create.add_argument("--role", required=True, choices=["admin", "staff", "app"])
    create.add_argument("--name", required=True, help="who or what uses it, e.g. member-app")
    create.set_defaults(func=cmd_create)
    revoke = tsub.add_parser("revoke", help="revoke a token by id or name")
    revoke.add_argument("token", metavar="NAME_OR_ID")
    revoke.set_defaults(func=cmd_revoke)
    lst = tsub.add_parser("list", help="list tokens (never the tokens themselves)")
    lst.add_argument("--all", action="store_true", help="include revoked tokens")
    lst.set_defaults(func=cmd_list)
