"""Where a webhook may go: the address filter is a pure function of the address, the host and the
allow-list; a URL is checked on every address its host resolves to. No network: only literal
addresses and `localhost` (from /etc/hosts) are resolved."""

from __future__ import annotations

import ipaddress
import random

import pytest

from dispatch.settings import Settings, SettingsError
from dispatch.webhooks.addresses import AddressRefused, check_url, parse_url, refusal
from dispatch.webhooks.delivery import retry_delay_s


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("::ffff:10.0.0.1", "private"),  # an IPv4-mapped private address
        ("100.64.0.1", "shared"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to refuse, nothing binds it
        ("240.0.0.1", "reserved"),
    ],
)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    reason = refusal(ipaddress.ip_address(address), "hooks.example", ())
    assert reason is not None and kind in reason and address.removeprefix("::ffff:") in reason


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), "hooks.example", ()) is None


def test_the_allow_list_names_networks_or_hosts() -> None:
    loopback = ipaddress.ip_address("127.0.0.1")
    assert refusal(loopback, "127.0.0.1", ("127.0.0.1/32",)) is None
    assert refusal(loopback, "erp.internal", ("erp.internal",)) is None
    assert refusal(ipaddress.ip_address("10.1.2.3"), "x", ("10.0.0.0/8",)) is None
    assert refusal(ipaddress.ip_address("10.1.2.3"), "x", ("127.0.0.1/32", "erp.internal")) is not None


def test_only_http_urls_without_credentials() -> None:
    assert parse_url("https://Hooks.Example/in") == ("hooks.example", 443)
    assert parse_url("http://hooks.example:8080/in") == ("hooks.example", 8080)
    for bad in ("ftp://hooks.example/", "https://user:pw@hooks.example/", "http:///x", "http://x:99999/"):
        with pytest.raises(AddressRefused):
            parse_url(bad)


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://localhost/", "http://[::1]/"],
)
async def test_urls_to_the_platforms_own_network_are_refused(url: str) -> None:
    with pytest.raises(AddressRefused):
        await check_url(url, ())


async def test_localhost_passes_when_allowed() -> None:
    await check_url("http://localhost:8080/", ("127.0.0.1/32", "::1/128"))


def test_the_allow_list_setting_is_checked() -> None:
    env = {"DISPATCH_SECRET_KEY": "k" * 32, "DISPATCH_WEBHOOK_ALLOW_HOSTS": "127.0.0.1/32, erp.internal"}
    assert Settings.from_env(env).webhook_allow_hosts == ("127.0.0.1/32", "erp.internal")
    with pytest.raises(SettingsError, match="DISPATCH_WEBHOOK_ALLOW_HOSTS"):
        Settings.from_env(env | {"DISPATCH_WEBHOOK_ALLOW_HOSTS": "10.0.0.0/99"})


def test_retries_back_off_exponentially_with_jitter_up_to_the_cap() -> None:
    settings = Settings(secret_key="k", webhook_retry_base_ms=5000, webhook_retry_cap_s=7200)
    rng = random.Random(7)
    delays = [retry_delay_s(n, settings, rng) for n in range(1, 15)]
    for n, delay in enumerate(delays, start=1):
        plain = min(5 * 2 ** (n - 1), 7200)
        assert plain <= delay <= plain * 1.25
    assert len({round(d / min(5 * 2 ** (n - 1), 7200), 6) for n, d in enumerate(delays, start=1)}) > 1
    # The default schedule keeps retrying for more than a day.
    assert Settings(secret_key="k").webhook_retry_horizon_s > 24 * 3600
