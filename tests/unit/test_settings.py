import pytest

from dispatch.settings import Settings, SettingsError


def test_defaults_without_environment(tmp_path):
    s = Settings.from_env({"DISPATCH_STATE_DIR": str(tmp_path)})
    assert s.database_url is None
    assert s.state_dir == str(tmp_path)
    assert len(s.secret_key) >= 48
    # The generated key is kept, so every process and every restart signs with the same one.
    assert Settings.from_env({"DISPATCH_STATE_DIR": str(tmp_path)}).secret_key == s.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_values(tmp_path):
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u@h/db",
            "DISPATCH_STATE_DIR": str(tmp_path),
            "DISPATCH_SECRET_KEY": "k" * 40,
            "DISPATCH_TOKEN_TTL_SECONDS": "600",
            "DISPATCH_LOG_LEVEL": "debug",
        }
    )
    assert (s.database_url, s.secret_key, s.token_ttl_seconds, s.log_level) == (
        "postgresql://u@h/db",
        "k" * 40,
        600,
        "DEBUG",
    )
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DISPATCH_TOKEN_TTL_SECONDS", "soon", "must be an integer"),
        ("DISPATCH_MAX_BODY_BYTES", "10", "must be at least 1024"),
        ("DISPATCH_MAP_TILES_URL", "https://tiles.example/{z}.png", "must contain"),
        ("DISPATCH_WS_COMPRESSION", "maybe", "must be 1/0"),
        ("DISPATCH_WATCHER_QUEUE", "1", "must be at least 4"),
        ("DISPATCH_METRICS_TOKEN", "guessable", "must have at least 16 characters"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, name, value, message):
    with pytest.raises(SettingsError, match=f"{name} {message}"):
        Settings.from_env({"DISPATCH_STATE_DIR": str(tmp_path), name: value})


def test_tracking_settings(tmp_path):
    s = Settings.from_env(
        {
            "DISPATCH_STATE_DIR": str(tmp_path),
            "DISPATCH_MAP_TILES_URL": "http://tiles.local/{z}/{x}/{y}.png",
            "DISPATCH_WS_COMPRESSION": "on",
            "DISPATCH_STOP_ALERT_MINUTES": "45",
        }
    )
    assert (s.map_tiles_url, s.ws_compression, s.stop_alert_minutes) == (
        "http://tiles.local/{z}/{x}/{y}.png",
        True,
        45,
    )
    default = Settings.from_env({"DISPATCH_STATE_DIR": str(tmp_path)})
    assert (default.map_tiles_url, default.ws_compression, default.position_retention_days) == (
        None,
        False,
        180,
    )


def test_idempotency_lease(tmp_path):
    env = {"DISPATCH_STATE_DIR": str(tmp_path)}
    assert Settings.from_env(env).idempotency_lease_seconds == 60
    lease = Settings.from_env(env | {"DISPATCH_IDEMPOTENCY_LEASE_SECONDS": "5"}).idempotency_lease_seconds
    assert lease == 5
    for bad, message in (("0", "at least 1"), ("86400", "at most 3600")):
        with pytest.raises(SettingsError, match=f"DISPATCH_IDEMPOTENCY_LEASE_SECONDS must be {message}"):
            Settings.from_env(env | {"DISPATCH_IDEMPOTENCY_LEASE_SECONDS": bad})


def test_slow_client_deadlines(tmp_path):
    base = {"DISPATCH_STATE_DIR": str(tmp_path), "DISPATCH_SECRET_KEY": "k" * 40}
    s = Settings.from_env(base)
    assert (s.header_timeout_seconds, s.body_timeout_seconds, s.ws_close_grace_seconds) == (15, 30, 60)
    s = Settings.from_env(
        base
        | {
            "DISPATCH_HEADER_TIMEOUT_SECONDS": "5",
            "DISPATCH_BODY_TIMEOUT_SECONDS": "7",
            "DISPATCH_WS_CLOSE_GRACE_SECONDS": "9",
        }
    )
    assert (s.header_timeout_seconds, s.body_timeout_seconds, s.ws_close_grace_seconds) == (5, 7, 9)
    with pytest.raises(SettingsError, match="DISPATCH_HEADER_TIMEOUT_SECONDS must be at least 1"):
        Settings.from_env(base | {"DISPATCH_HEADER_TIMEOUT_SECONDS": "0"})


def test_map_tiles_datum(tmp_path):
    env = {"DISPATCH_STATE_DIR": str(tmp_path)}
    assert Settings.from_env(env).map_tiles_datum == "wgs84"
    assert Settings.from_env(env | {"DISPATCH_MAP_TILES_DATUM": "gcj02"}).map_tiles_datum == "gcj02"
    assert Settings.from_env(env | {"DISPATCH_MAP_TILES_DATUM": "GCJ-02"}).map_tiles_datum == "gcj02"
    with pytest.raises(SettingsError, match="DISPATCH_MAP_TILES_DATUM must be wgs84 or gcj02, got 'bd09'"):
        Settings.from_env(env | {"DISPATCH_MAP_TILES_DATUM": "bd09"})


def test_each_worker_opens_its_whole_pool_unless_told_otherwise(tmp_path):
    base = {"DISPATCH_STATE_DIR": str(tmp_path), "DISPATCH_SECRET_KEY": "k" * 40}
    default = Settings.from_env(base)
    assert (default.db_pool_min, default.db_pool_max) == (10, 10)
    bigger = Settings.from_env(base | {"DISPATCH_DB_POOL_MAX": "40"})
    assert (bigger.db_pool_min, bigger.db_pool_max) == (40, 40)
    lazy = Settings.from_env(base | {"DISPATCH_DB_POOL_MIN": "2", "DISPATCH_DB_POOL_MAX": "40"})
    assert (lazy.db_pool_min, lazy.db_pool_max) == (2, 40)
    with pytest.raises(SettingsError, match="DISPATCH_DB_POOL_MIN must be at most 10"):
        Settings.from_env(base | {"DISPATCH_DB_POOL_MIN": "11"})
