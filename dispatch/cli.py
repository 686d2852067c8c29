"""The `dispatch` command: serve, migrate, and the administrator's bootstrap commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import secrets
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import asyncpg
import msgspec

from dispatch.db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from dispatch.db.migrate import DEFAULT_DIR, MigrationError, migrate
from dispatch.observability import configure_logging
from dispatch.settings import Settings, SettingsError

# Room for several workers' pools, the listeners of later areas and a psql session or two.
EMBEDDED_SERVER_SETTINGS = {"max_connections": "300"}


class CommandError(Exception):
    """A failure we explain in one message and exit 1 for, without a traceback."""


@contextlib.contextmanager
def resolved_database(settings: Settings) -> Iterator[Settings]:
    """The settings with database_url filled in: the given server, or the embedded one.

    The embedded server is started if it is not running in the state dir, and stopped on the way
    out only if this process started it.
    """
    if settings.database_url is not None:
        yield settings
        return
    server = EmbeddedPostgres(settings.state_path / "postgres", server_settings=EMBEDDED_SERVER_SETTINGS)
    try:
        dsn = server.start()
    except EmbeddedPostgresError as exc:
        raise CommandError(str(exc)) from exc
    try:
        yield msgspec.structs.replace(settings, database_url=dsn)
    finally:
        server.stop()


async def _migrate(settings: Settings) -> list[str]:
    assert settings.database_url is not None
    directory = Path(settings.migrations_dir) if settings.migrations_dir else DEFAULT_DIR
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await migrate(conn, directory)
    finally:
        await conn.close()


def run_migrations(settings: Settings, *, quiet: bool = False) -> None:
    try:
        applied = asyncio.run(_migrate(settings))
    except MigrationError as exc:
        raise CommandError(f"migration failed, not starting: {exc}") from exc
    if not quiet:
        for name in applied:
            print(f"applied {name}")
        if not applied:
            print("database is up to date")


# -- commands --------------------------------------------------------------------------------


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    with resolved_database(settings) as s:
        run_migrations(s, quiet=True)
        assert s.database_url is not None
        # Worker processes build their own settings from the environment: hand them the
        # resolved database so they join this server instead of starting another.
        os.environ["DATABASE_URL"] = s.database_url
        print(
            f"serving on http://{args.host}:{args.port} with {args.workers} worker(s); "
            f"OpenAPI at /schema; database {'embedded' if settings.database_url is None else 'external'}",
            flush=True,
        )
        uvicorn.run(
            "dispatch.app:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="uvloop",
            http="httptools",
            ws="websockets-sansio",
            # Off by default: bench/tracking.py measures what it costs the fan-out (DESIGN.md §4).
            ws_per_message_deflate=s.ws_compression,
            access_log=False,
            log_config=None,
            proxy_headers=args.proxy_headers,
            timeout_graceful_shutdown=10,
            # Longer than a load balancer's usual 60 s idle timeout, so the server never closes a
            # kept-alive connection the balancer (or a client) is about to reuse.
            timeout_keep_alive=65,
        )


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> None:
    with resolved_database(settings) as s:
        run_migrations(s)


def cmd_database_url(settings: Settings, _: argparse.Namespace) -> None:
    """Print the database URL (starting the embedded server if needed and leaving it running)."""
    if settings.database_url is not None:
        print(settings.database_url)
        return
    server = EmbeddedPostgres(settings.state_path / "postgres", server_settings=EMBEDDED_SERVER_SETTINGS)
    print(server.start())


def cmd_create_org(settings: Settings, args: argparse.Namespace) -> None:
    from dispatch.accounts import service
    from dispatch.accounts.passwords import Passwords
    from dispatch.db.pool import create_pool
    from dispatch.errors import Problem

    parties = [p.strip() for p in args.parties.split(",") if p.strip()]
    bad = [p for p in parties if p not in ("shipper", "consignee", "carrier")]
    if not parties or bad:
        raise CommandError("--parties is a comma-separated list of shipper, consignee, carrier")
    password, generated = _admin_password(args)

    async def run(dsn: str) -> None:
        pool = await create_pool(dsn, min_size=1, max_size=2)
        try:
            org, user_id = await service.create_organization(
                pool,
                Passwords(time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib),
                name=args.name,
                parties=parties,
                admin_email=args.admin_email,
                admin_name=args.admin_name or args.admin_email,
                admin_password=password,
            )
        except Problem as exc:
            raise CommandError(exc.detail) from exc
        finally:
            await pool.close()
        print(f"organization {org.name} ({', '.join(org.parties)}): {org.id}")
        print(f"admin {args.admin_email}: {user_id}")
        if generated:
            print(f"admin password (shown once): {password}")

    with resolved_database(settings) as s:
        run_migrations(s, quiet=True)
        assert s.database_url is not None
        asyncio.run(run(s.database_url))


def _admin_password(args: argparse.Namespace) -> tuple[str, bool]:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("admin password (empty to generate one): ")
    else:
        password = ""
    if not password:
        return secrets.token_urlsafe(12), True
    if len(password) < 10:
        raise CommandError("the admin password needs at least 10 characters")
    return password, False


def cmd_plan(args: argparse.Namespace) -> int:
    """Plan loads for a cargo and fleet given as JSON (see the README); no database involved."""
    from dispatch.loads.plan_cli import main as plan

    text = Path(args.file).read_text() if args.file and args.file != "-" else sys.stdin.read()
    code, output = plan(text)
    print(output, file=sys.stdout if code == 0 else sys.stderr if code == 2 else sys.stdout)
    return code


# -- entry point -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dispatch", description="freight-dispatch: B2B bulk freight dispatch."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then run the HTTP and websocket server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-* from a proxy")
    serve.set_defaults(handler=cmd_serve)

    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(handler=cmd_migrate)
    sub.add_parser(
        "database-url", help="print the database URL in use (starts the embedded server)"
    ).set_defaults(handler=cmd_database_url)

    plan = sub.add_parser(
        "plan", help="split a cargo into loads for a fleet: JSON in (FILE or stdin), JSON out"
    )
    plan.add_argument("file", nargs="?", help="the request as JSON; stdin when absent or -")
    plan.set_defaults(handler=None)

    org = sub.add_parser("create-org", help="create an organization and its first admin user")
    org.add_argument("--name", required=True)
    org.add_argument("--parties", required=True, help="comma-separated: shipper,consignee,carrier")
    org.add_argument("--admin-email", required=True)
    org.add_argument("--admin-name")
    org.add_argument("--password-stdin", action="store_true", help="read the admin password from stdin")
    org.set_defaults(handler=cmd_create_org)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "plan":  # pure computation: no settings, no database
        raise SystemExit(cmd_plan(args))
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        args.handler(settings, args)
    except (CommandError, SettingsError) as exc:
        print(f"dispatch: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
