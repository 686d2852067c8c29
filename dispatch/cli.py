"""The `dispatch` command: serve, migrate, and the administrator's bootstrap commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import getpass
import os
import secrets
import shutil
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from dispatch import pgstats, procfs, sandbox, signals
from dispatch.accounts.passwords import Passwords
from dispatch.db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from dispatch.db.migrate import DEFAULT_DIR, MigrationError, migrate
from dispatch.i18n import LOCALES, translate
from dispatch.observability import configure_logging
from dispatch.settings import Settings, SettingsError
from dispatch.webhooks import sealing

# Room for several workers' pools, each worker's broker listener and a psql session or two.
EMBEDDED_SERVER_SETTINGS = {"max_connections": "300"}
# `dispatch demo` plays on its own database, dropped and created again on every run.
DEMO_DATABASE = "dispatch_demo"
SIMULATION_DATABASE = "dispatch_simulation"


class CommandError(Exception):
    """A failure we explain in one message and exit 1 for, without a traceback."""


@contextlib.contextmanager
def resolved_database(
    settings: Settings, extra_server_settings: dict[str, str] | None = None
) -> Iterator[Settings]:
    """The settings with database_url filled in: the given server, or the embedded one.

    The embedded server is started if it is not running in the state dir (with
    `extra_server_settings` too), and stopped on the way out only if this process started it,
    however the way out comes (an error, Ctrl-C, SIGTERM).
    """
    if settings.database_url is not None:
        yield settings
        return
    server = EmbeddedPostgres(
        settings.state_path / "postgres",
        server_settings=EMBEDDED_SERVER_SETTINGS | (extra_server_settings or {}),
    )
    try:
        dsn = server.start()
    except EmbeddedPostgresError as exc:
        raise CommandError(str(exc)) from exc
    try:
        yield msgspec.structs.replace(settings, database_url=dsn)
    finally:
        if server.started_by_us:
            with signals.deferred():
                server.stop()
            print(
                f"dispatch: stopped the embedded PostgreSQL in {server.data_dir}", file=sys.stderr, flush=True
            )


async def _migrate(settings: Settings) -> list[str]:
    assert settings.database_url is not None
    directory = Path(settings.migrations_dir) if settings.migrations_dir else DEFAULT_DIR
    conn = await asyncpg.connect(settings.database_url)
    try:
        applied = await migrate(conn, directory)
        # Webhook secrets stored in clear before they were sealed are sealed now (once: a no-op after).
        await sealing.seal_stored(conn, settings.secret_key)
        return applied
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
    from dispatch import protocols

    with resolved_database(settings) as s:
        run_migrations(s, quiet=True)
        assert s.database_url is not None
        # Worker processes build their own settings from the environment: hand them the
        # resolved database so they join this server instead of starting another.
        os.environ["DATABASE_URL"] = s.database_url
        metrics_dir = _metrics_environment(s, args.workers)
        print(
            f"serving on http://{args.host}:{args.port} with {args.workers} worker(s); "
            f"OpenAPI at /schema; database {'embedded' if settings.database_url is None else 'external'}",
            flush=True,
        )
        config: dict[str, Any] = dict(
            app="dispatch.app:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="uvloop",
            # uvicorn's httptools and websockets-sansio protocols with deadlines for slow clients
            # (dispatch/protocols.py); partials, so that each worker gets the settings with them.
            http=functools.partial(
                protocols.HttpProtocol,
                header_timeout=s.header_timeout_seconds,
                body_timeout=s.body_timeout_seconds,
            ),
            ws=functools.partial(protocols.WebSocketProtocol, close_grace=s.ws_close_grace_seconds),
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
        # On SIGTERM or SIGINT uvicorn finishes the requests in flight and stops its workers; then
        # resolved_database stops the embedded PostgreSQL (dispatch/signals.py).
        try:
            stopped_by = _run_uvicorn(config, args.workers, metrics_dir)
        finally:
            if metrics_dir is not None:
                shutil.rmtree(metrics_dir, ignore_errors=True)
    # A stop asked for by a signal is how a server's run ends: exit 0, after saying so.
    print(
        f"dispatch: the server has stopped{f' (stopped by {stopped_by})' if stopped_by else ''}", flush=True
    )


def _metrics_environment(settings: Settings, workers: int) -> Path | None:
    """Several workers share their metrics through files (prometheus_client's multiprocess mode):
    a fresh directory, named in the environment the workers start with, before any of them imports
    prometheus_client. One worker keeps them in memory (this process: prometheus_client is not
    imported yet, and is imported below only when the workers are other processes)."""
    if workers == 1:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return None
    from dispatch import metrics

    directory = metrics.fresh_multiproc_dir(settings.state_path)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


def _run_uvicorn(config: dict[str, Any], worker_count: int, metrics_dir: Path | None) -> str | None:
    """Serve until stopped; the name of the signal that stopped the server, if one did."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    from dispatch import workers

    if worker_count > 1:
        # A listening socket per worker: even load. A replaced worker's live gauges go.
        from dispatch.metrics import mark_worker_dead

        assert metrics_dir is not None
        signum = workers.serve(uvicorn.Config(**config), on_worker_exit=mark_worker_dead(metrics_dir))
        return signal.Signals(signum).name if signum is not None else None
    # Not uvicorn.run: it swallows the KeyboardInterrupt uvicorn raises again once it has shut down
    # on SIGINT, and dies on the SIGTERM it raises again, before anything is stopped.
    server = uvicorn.Server(uvicorn.Config(**config))
    try:
        server.run()
    except KeyboardInterrupt:
        return signal.SIGINT.name
    except signals.Terminated as stop:
        return str(stop)
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)  # uvicorn has logged why
    return None


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
                _passwords(settings),
                name=args.name,
                parties=parties,
                admin_email=args.admin_email,
                admin_name=args.admin_name or args.admin_email,
                admin_password=password,
                country=args.country,
                currency=args.currency,
                timezone=args.timezone,
                locale=args.locale,
            )
        except Problem as exc:
            raise CommandError(exc.detail) from exc
        finally:
            await pool.close()
        print(f"organization {org.name} ({', '.join(org.parties)}): {org.id}")
        print(
            f"settings: country {org.country}, currency {org.currency}, time zone {org.timezone}, "
            f"locale {org.locale}"
        )
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
    # The same policy as every password set through the API (told here before any database work).
    from dispatch.accounts import password_policy

    context = password_policy.context_words(args.admin_email, args.admin_name, args.name)
    verdict = password_policy.weakness(password, context)
    if verdict is not None:
        advice = " ".join(verdict["suggestions"])
        raise CommandError(f"the admin password is too easy to guess: {verdict['warning']} {advice}")
    return password, False


def cmd_demo(settings: Settings, args: argparse.Namespace) -> None:
    """Play one order through the whole product on a fresh `dispatch_demo` database, then serve: the
    scenario `--scenario` names, told in `--locale` (else the scenario's language)."""
    from dispatch.sim import demo
    from dispatch.sim.client import ApiError
    from dispatch.sim.scenarios import SCENARIOS

    scenario = SCENARIOS.get(args.scenario)
    if scenario is None:
        raise CommandError(f"no scenario {args.scenario!r}: choose one of {', '.join(SCENARIOS)}")
    locale = args.locale or scenario.language
    options = demo.Options(time_scale=args.time_scale)
    orgs = [(o.name, o.parties, o.admin_email) for o in scenario.organizations]
    with resolved_database(settings) as s:
        assert s.database_url is not None
        print(translate(locale, "demo.preparing", name=repr(DEMO_DATABASE)), flush=True)
        url = asyncio.run(sandbox.fresh_database(s.database_url, DEMO_DATABASE))
        admins = asyncio.run(sandbox.bootstrap(url, _passwords(s), orgs, demo.PASSWORD))
        env = {"DISPATCH_TRACKING_TIME_SCALE": str(args.time_scale), "DISPATCH_LOG_LEVEL": "WARNING"}
        with sandbox.serving(url, host=args.host, port=args.port, workers=args.workers, env=env) as server:
            base = f"http://{args.host}:{args.port}"
            print(translate(locale, "demo.serving", base=base, workers=args.workers), flush=True)
            try:
                summary, say = asyncio.run(demo.run(base, admins, options, scenario, locale))
            except ApiError as exc:
                raise CommandError(translate(locale, "demo.stopped", error=exc)) from exc
            demo.print_summary(summary, say)
            if not all(summary.stages.values()):
                raise CommandError(translate(locale, "demo.incomplete"))
            if args.exit:
                return
            demo.print_invitation(summary, say)
            try:
                server.wait()
            except KeyboardInterrupt:
                print("\n" + translate(locale, "demo.stopping"))


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> None:
    """Run the simulated parties through the public API at scale and print the figures."""
    from dispatch.sim import simulate
    from dispatch.sim.client import ApiError
    from dispatch.sim.crowd import CrowdError
    from dispatch.sim.server_lag import ServerLag

    opts = simulate.Options(
        carriers=args.carriers,
        jobs=args.jobs,
        drivers=args.drivers,
        watchers=args.watchers,
        interval_s=args.interval,
        time_scale=args.time_scale,
        docks=args.docks,
        processes=args.processes,
        give_back=args.give_back,
        breakdowns=args.breakdowns,
        swaps=args.swaps,
        driver_sockets=not args.no_driver_sockets,
    )
    problem = simulate.check(opts)
    if problem:
        raise CommandError(problem)
    # pg_stat_statements needs loading when the server starts: an embedded server started here
    # loads it; one already running (or DATABASE_URL's) has it only if its operator preloaded it.
    statements = {"shared_preload_libraries": "pg_stat_statements"} if args.pg_stats else None
    with resolved_database(settings, statements) as s:
        assert s.database_url is not None
        print(f"preparing a fresh database {SIMULATION_DATABASE!r} ...", flush=True)
        url = asyncio.run(sandbox.fresh_database(s.database_url, SIMULATION_DATABASE))
        # The simulated people log in and are created by the hundred: a cheap password hash keeps
        # the figures about the platform, not about Argon2 (the server below uses the same).
        metrics_token = secrets.token_urlsafe(24)
        cheap = Passwords(time_cost=1, memory_kib=1024)
        admins = asyncio.run(sandbox.bootstrap(url, cheap, simulate.orgs(opts), simulate.PASSWORD))
        env = {
            "DISPATCH_TRACKING_TIME_SCALE": str(args.time_scale),
            "DISPATCH_LOG_LEVEL": "WARNING",
            "DISPATCH_PASSWORD_TIME_COST": "1",
            "DISPATCH_PASSWORD_MEMORY_KIB": "1024",
            # The service's default pool (it was 40 a worker): each new PostgreSQL backend pays for
            # its first use of every statement and table, so fewer of them cost PostgreSQL less per
            # gate request (2.25-2.35 -> 1.91 ms in the busy day; dispatch/sim/README.md).
            "DISPATCH_DB_POOL_MAX": "10",
            # The workers' loop lag is read from /metrics over the run (dispatch/sim/server_lag.py).
            "DISPATCH_METRICS_TOKEN": metrics_token,
        }
        port = args.port or sandbox.free_port(args.host)
        with sandbox.serving(url, host=args.host, port=port, workers=args.workers, env=env) as server:
            print(f"server on http://{args.host}:{port} with {args.workers} worker(s); phases:", flush=True)
            sampler = pgstats.WaitSampler(url, statements=True) if args.pg_stats else None
            cpu = procfs.ServerCpu(
                server.pid, procfs.postmaster_pid(asyncio.run(pgstats.data_directory(url)))
            )
            lag = ServerLag(f"http://{args.host}:{port}", metrics_token)
            lag.start()
            try:
                figures, timings = asyncio.run(
                    simulate.run(f"http://{args.host}:{port}", admins, opts, sampler, cpu, lag)
                )
            except (ApiError, CrowdError) as exc:
                raise CommandError(f"the simulation stopped: {exc}") from exc
            finally:
                lag.stop()
        complete = simulate.report(figures, timings, opts)
        if sampler is not None:
            print(sampler.by_phase([*figures.windows, ("run", figures.started_at, float("inf"))]))
        if not complete:
            raise CommandError("the simulation did not complete every stage (see above)")


def _passwords(settings: Settings) -> Passwords:
    return Passwords(time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib)


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

    demo = sub.add_parser(
        "demo",
        help="play one order through the whole product on a fresh demo database, then keep serving",
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    demo.add_argument(
        "--time-scale", type=int, default=200, help="seconds of driving per wall-clock second (default 200)"
    )
    demo.add_argument("--exit", action="store_true", help="exit after the summary instead of serving")
    demo.add_argument(
        "--scenario",
        default="at",
        help="at: Linz to Vienna in EUR (default); cn: Tangshan to Tianjin port in CNY, Chinese plates",
    )
    demo.add_argument(
        "--locale",
        choices=LOCALES,
        help="the narration's language (default: the scenario's, en for at, zh-CN for cn)",
    )
    demo.set_defaults(handler=cmd_demo)

    sim = sub.add_parser(
        "simulate",
        help="load-generate through the public API: carriers, jobs, drivers, watchers; prints figures",
    )
    sim.add_argument("--carriers", type=int, default=10)
    sim.add_argument("--jobs", type=int, default=10)
    sim.add_argument("--drivers", type=int, default=200, help="trucks, one driver and phone each")
    sim.add_argument("--watchers", type=int, default=500, help="tracking sockets, spread over the loads")
    sim.add_argument("--interval", type=float, default=2.0, help="seconds between a phone's GPS posts")
    sim.add_argument("--time-scale", type=int, default=120, help="seconds of driving per wall-clock second")
    sim.add_argument("--docks", type=int, default=20, help="docks at the mill's gate")
    sim.add_argument("--workers", type=int, default=2)
    sim.add_argument(
        "--processes",
        type=int,
        default=1,
        help="spread the watchers and the driving phones over this many child processes (default 1: "
        "all in this one); use more when the report says the generator was late",
    )
    sim.add_argument(
        "--give-back",
        type=float,
        default=0.0,
        help="share of the won jobs (the first posted) their carrier gives back before the gate; the "
        "mill re-tenders each to the market as a grab, the other carriers grab it or it expires",
    )
    sim.add_argument(
        "--breakdowns",
        type=float,
        default=0.0,
        help="share of the trucks (the carriers in turn) that break down before the gate: the carrier "
        "swaps in a spare truck and the driver drives on with the new pickup code",
    )
    sim.add_argument(
        "--swaps",
        type=float,
        default=0.0,
        help="share of the loads (the carriers in turn) given another truck and driver before the "
        "gate: the goods owner, whose authorization names the trucks and drivers, approves; the new "
        "driver's phone gets the load and the new plate verifies, the old code is refused",
    )
    sim.add_argument(
        "--no-driver-sockets",
        action="store_true",
        help="leave out the drivers' live sockets (by default each driver holds /driver/v1/live from "
        "check-in to departure, as the phone app does): to compare the gate with and without them",
    )
    sim.add_argument(
        "--pg-stats",
        action="store_true",
        help="sample PostgreSQL's wait events during the run (and its top statements); print them per phase",
    )
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=0, help="default: a free port")
    sim.set_defaults(handler=cmd_simulate)

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
    org.add_argument(
        "--country",
        type=str.upper,
        help="ISO 3166-1 alpha-2 (CN, AT, DE, ...); brings its currency, time zone and locale (default AT)",
    )
    org.add_argument("--currency", type=str.upper, help="ISO 4217 (CNY, EUR, ...): default the country's")
    org.add_argument("--timezone", help="IANA time zone (Asia/Shanghai, ...): default the country's")
    org.add_argument("--locale", choices=["en", "zh-CN"], help="the pages' language: default the country's")
    org.set_defaults(handler=cmd_create_org)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "plan":  # pure computation: no settings, no database
        raise SystemExit(cmd_plan(args))
    signals.stop_on_signals()
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        args.handler(settings, args)
    except (CommandError, SettingsError) as exc:
        print(f"dispatch: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print("dispatch: stopped by SIGINT", file=sys.stderr)
        raise SystemExit(130) from None
    except signals.Terminated as stop:
        print(f"dispatch: stopped by {stop}", file=sys.stderr)
        raise SystemExit(128 + stop.signum) from None


if __name__ == "__main__":
    main()
