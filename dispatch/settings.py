"""Configuration: the only module that reads the environment.

`Settings.from_env()` is called once by the command line (or the uvicorn app factory) and the
frozen result is passed down. Tests build `Settings(...)` directly, so nothing here runs at import.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec
import semver

DEFAULT_STATE_DIR = ".dispatch"


class SettingsError(ValueError):
    """An environment variable has a value we cannot use; the message names it."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # None: start (or reuse) the embedded PostgreSQL under state_dir.
    database_url: str | None = None
    state_dir: str = DEFAULT_STATE_DIR
    # HMAC key that signs user bearer tokens. Every worker process must share it.
    secret_key: str
    token_ttl_seconds: int = 12 * 3600
    # How long a phone pairing code (POST /fleet/drivers/{user}/pairings) may be redeemed.
    pairing_minutes: int = 10
    max_body_bytes: int = 1 << 20
    # An Idempotency-Key's claim while its first request runs: after this long without an answer
    # (its worker was killed, the database restarted), a retry with the same request takes it over.
    idempotency_lease_seconds: int = 60
    # Connections each worker opens at start-up (by default all of them: dispatch/db/pool.py) and the
    # most it holds.
    db_pool_min: int = 10
    db_pool_max: int = 10
    log_level: str = "INFO"
    # Where the numbered .sql migrations live; only packagers and tests change this.
    migrations_dir: str | None = None
    # Argon2id cost; the defaults are argon2-cffi's RFC 9106 "low memory" profile.
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    # How often each worker's closer looks for jobs past their deadline.
    closer_interval_ms: int = 500
    # Loading evidence photos: the largest upload accepted.
    max_photo_bytes: int = 10 << 20
    # Tracking: GPS partitions older than this are dropped; a truck standing still this long outside
    # its sites raises a stop alert; a watcher socket's outbox holds this many frames.
    position_retention_days: int = 180
    stop_alert_minutes: int = 20
    watcher_queue: int = 64
    # Tracking's alerts (dispatch/tracking/README.md, "Alerts"): a truck is late when its ETA is this
    # much past its booked slot's start or its job's deliver-by; off route when this many fixes in a
    # row are farther from the expected route than max(the minimum, the percentage of the trip).
    late_grace_minutes: int = 10
    corridor_min_km: int = 10
    corridor_percent: int = 20
    off_route_points: int = 3
    # The tracking page's optional background map: an XYZ tile URL template such as
    # "https://tile.example/{z}/{x}/{y}.png" (unset: no tiles; trail, truck and geofences still draw).
    map_tiles_url: str | None = None
    map_tiles_attribution: str = ""
    # The datum the tiles are drawn in: "wgs84" (OpenStreetMap and most services) or "gcj02" (tile
    # services in mainland China: AMap/Gaode, Tencent). Stored positions stay WGS-84; the page shifts
    # what it draws to the tiles' datum.
    map_tiles_datum: Literal["wgs84", "gcj02"] = "wgs84"
    # permessage-deflate on websockets: off by default, for the fan-out's sake (bench/tracking.py
    # measures both).
    ws_compression: bool = False
    # Demos and simulations only (`dispatch demo` sets it): each second between GPS fixes counts as
    # this many seconds of driving, so a trip played faster than real time keeps plausible speeds,
    # ETAs and stop alerts. 1 in production.
    tracking_time_scale: float = 1.0
    # /metrics answers only a scraper bearing this token (unset: no /metrics route). At least 16
    # characters.
    metrics_token: str | None = None
    # Set by `dispatch serve` for its workers (several processes): where prometheus_client's
    # multiprocess mode keeps each worker's values. Unset: in memory, one process.
    metrics_dir: str | None = None
    # Slow clients (dispatch/protocols.py): a request head must arrive within this many seconds of
    # the connection (or of its first byte on a kept-alive one); a request body may pause this long
    # between two pieces; a websocket the server closed is aborted when its peer has read nothing
    # for this long.
    header_timeout_seconds: int = 15
    body_timeout_seconds: int = 30
    ws_close_grace_seconds: int = 60
    # The oldest driver app the driver API serves (a semantic version): an app that says it is older
    # (X-App-Version) is answered 426 upgrade_required. None: every version, and apps that send none.
    driver_app_min_version: str | None = None
    # Webhooks (dispatch/webhooks/README.md). A failed delivery is retried after base, 2x base, 4x
    # base, ... (at most cap), each stretched by up to a quarter at random (jitter), for `horizon`
    # seconds after it was first due; then its endpoint is disabled. Defaults: 5 s, capped at 2 h,
    # for 25 h (Standard Webhooks asks for at least a day).
    webhook_retry_base_ms: int = 5000
    webhook_retry_cap_s: int = 2 * 3600
    webhook_retry_horizon_s: int = 25 * 3600
    # Each attempt's connect and read timeouts.
    webhook_timeout_ms: int = 10_000
    # A worker's claim on a delivery: another worker retries it after this (the first one died).
    # Longer than the timeouts, so a slow but live delivery is not sent twice.
    webhook_claim_seconds: int = 60
    # After a rotation the old secret still signs (beside the new one) this long.
    webhook_secret_grace_s: int = 24 * 3600
    # Deliveries sent at once by each worker process.
    webhook_concurrency: int = 8
    # How often each worker looks for new events and due deliveries.
    webhook_poll_ms: int = 500
    # Hosts or networks (CIDR) an endpoint may point to although private, loopback, link-local or
    # reserved: "127.0.0.1/32,hooks.internal". Empty: public addresses only.
    webhook_allow_hosts: tuple[str, ...] = ()

    @property
    def state_path(self) -> Path:
        return Path(self.state_dir).resolve()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        state_dir = env.get("DISPATCH_STATE_DIR", DEFAULT_STATE_DIR)
        pool_max = _int(env, "DISPATCH_DB_POOL_MAX", 10, minimum=1)
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            state_dir=state_dir,
            secret_key=env.get("DISPATCH_SECRET_KEY") or _state_secret(Path(state_dir)),
            token_ttl_seconds=_int(env, "DISPATCH_TOKEN_TTL_SECONDS", 12 * 3600, minimum=60),
            pairing_minutes=_int(env, "DISPATCH_PAIRING_MINUTES", 10, minimum=1, maximum=24 * 60),
            max_body_bytes=_int(env, "DISPATCH_MAX_BODY_BYTES", 1 << 20, minimum=1024),
            idempotency_lease_seconds=_int(
                env, "DISPATCH_IDEMPOTENCY_LEASE_SECONDS", 60, minimum=1, maximum=3600
            ),
            db_pool_min=_int(env, "DISPATCH_DB_POOL_MIN", pool_max, minimum=1, maximum=pool_max),
            db_pool_max=pool_max,
            log_level=env.get("DISPATCH_LOG_LEVEL", "INFO").upper(),
            migrations_dir=env.get("DISPATCH_MIGRATIONS_DIR") or None,
            password_time_cost=_int(env, "DISPATCH_PASSWORD_TIME_COST", 3, minimum=1),
            password_memory_kib=_int(env, "DISPATCH_PASSWORD_MEMORY_KIB", 65536, minimum=8),
            closer_interval_ms=_int(env, "DISPATCH_CLOSER_INTERVAL_MS", 500, minimum=10),
            max_photo_bytes=_int(env, "DISPATCH_MAX_PHOTO_BYTES", 10 << 20, minimum=1024, maximum=64 << 20),
            position_retention_days=_int(env, "DISPATCH_POSITION_RETENTION_DAYS", 180, minimum=8),
            stop_alert_minutes=_int(env, "DISPATCH_STOP_ALERT_MINUTES", 20, minimum=1, maximum=24 * 60),
            watcher_queue=_int(env, "DISPATCH_WATCHER_QUEUE", 64, minimum=4, maximum=10_000),
            late_grace_minutes=_int(env, "DISPATCH_LATE_GRACE_MINUTES", 10, minimum=0, maximum=24 * 60),
            corridor_min_km=_int(env, "DISPATCH_CORRIDOR_MIN_KM", 10, minimum=1, maximum=1000),
            corridor_percent=_int(env, "DISPATCH_CORRIDOR_PERCENT", 20, minimum=0, maximum=100),
            off_route_points=_int(env, "DISPATCH_OFF_ROUTE_POINTS", 3, minimum=1, maximum=100),
            map_tiles_url=_tiles_url(env.get("DISPATCH_MAP_TILES_URL") or None),
            map_tiles_attribution=env.get("DISPATCH_MAP_TILES_ATTRIBUTION", ""),
            map_tiles_datum=_tiles_datum(env.get("DISPATCH_MAP_TILES_DATUM") or "wgs84"),
            ws_compression=_bool(env, "DISPATCH_WS_COMPRESSION"),
            tracking_time_scale=float(
                _int(env, "DISPATCH_TRACKING_TIME_SCALE", 1, minimum=1, maximum=10_000)
            ),
            metrics_token=_metrics_token(env.get("DISPATCH_METRICS_TOKEN") or None),
            metrics_dir=env.get("PROMETHEUS_MULTIPROC_DIR") or None,
            header_timeout_seconds=_int(env, "DISPATCH_HEADER_TIMEOUT_SECONDS", 15, minimum=1, maximum=600),
            body_timeout_seconds=_int(env, "DISPATCH_BODY_TIMEOUT_SECONDS", 30, minimum=1, maximum=600),
            ws_close_grace_seconds=_int(env, "DISPATCH_WS_CLOSE_GRACE_SECONDS", 60, minimum=1, maximum=600),
            driver_app_min_version=_semver(env, "DISPATCH_DRIVER_APP_MIN_VERSION"),
            webhook_retry_base_ms=_int(env, "DISPATCH_WEBHOOK_RETRY_BASE_MS", 5000, minimum=10),
            webhook_retry_cap_s=_int(env, "DISPATCH_WEBHOOK_RETRY_CAP_SECONDS", 2 * 3600, minimum=1),
            webhook_retry_horizon_s=_int(env, "DISPATCH_WEBHOOK_RETRY_HORIZON_SECONDS", 25 * 3600, minimum=1),
            webhook_timeout_ms=_int(env, "DISPATCH_WEBHOOK_TIMEOUT_MS", 10_000, minimum=100, maximum=60_000),
            webhook_claim_seconds=_int(env, "DISPATCH_WEBHOOK_CLAIM_SECONDS", 60, minimum=1, maximum=3600),
            webhook_secret_grace_s=_int(env, "DISPATCH_WEBHOOK_SECRET_GRACE_SECONDS", 24 * 3600, minimum=0),
            webhook_concurrency=_int(env, "DISPATCH_WEBHOOK_CONCURRENCY", 8, minimum=1, maximum=256),
            webhook_poll_ms=_int(env, "DISPATCH_WEBHOOK_POLL_MS", 500, minimum=10),
            webhook_allow_hosts=_allow_hosts(env.get("DISPATCH_WEBHOOK_ALLOW_HOSTS", "")),
        )


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1/0, true/false, yes/no or on/off, got {raw!r}")


def _tiles_url(url: str | None) -> str | None:
    if url is not None and not all(f"{{{k}}}" in url for k in "zxy"):
        raise SettingsError(f"DISPATCH_MAP_TILES_URL must contain {{z}}, {{x}} and {{y}}, got {url!r}")
    return url


def _tiles_datum(raw: str) -> Literal["wgs84", "gcj02"]:
    datum = raw.strip().lower().replace("-", "")
    if datum == "wgs84":
        return "wgs84"
    if datum == "gcj02":
        return "gcj02"
    raise SettingsError(f"DISPATCH_MAP_TILES_DATUM must be wgs84 or gcj02, got {raw!r}")


def _metrics_token(token: str | None) -> str | None:
    if token is not None and len(token) < 16:
        raise SettingsError("DISPATCH_METRICS_TOKEN must have at least 16 characters (openssl rand -hex 32)")
    return token


def _semver(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not semver.Version.is_valid(raw):
        raise SettingsError(f"{name} must be a semantic version such as 2.1.0, got {raw!r}")
    return raw


def _allow_hosts(raw: str) -> tuple[str, ...]:
    entries = tuple(e.strip().lower() for e in raw.split(",") if e.strip())
    for entry in entries:
        if "/" in entry:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise SettingsError(f"DISPATCH_WEBHOOK_ALLOW_HOSTS: {entry!r} is not a network") from None
    return entries


def _state_secret(state_dir: Path) -> str:
    """The signing key kept in the state dir, created on first use.

    Without DISPATCH_SECRET_KEY a fresh clone still works, and tokens survive restarts and are
    valid across worker processes because all of them read the same file.
    """
    path = state_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_dir / f".secret_key.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(48))
    # link() is atomic and refuses an existing name: when two processes race on a fresh state
    # dir, exactly one key is published and both read that one, never a half-written file.
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
