"""Server-side request forgery: an endpoint on the platform's own network is refused when it is
registered, and a delivery checks the address again before anything is connected. Every request
these tests could make goes to 127.0.0.1 (the receivers count their connections)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from dispatch.settings import Settings
from dispatch.webhooks import signing
from dispatch.webhooks.delivery import Deliverer
from tests.support import bootstrap_org, problem
from tests.webhook_support import Receiver

LOCAL = ("127.0.0.1/32",)


def delivery_row(url: str, secret: str) -> dict[str, Any]:
    """What the claim loop hands a delivery attempt (a claimed row)."""
    return {
        "org_id": uuid.uuid4(),
        "url": url,
        "secret": secret,
        "previous_secret": None,
        "event_id": 1,
        "body": '{"id":"evt_1"}',
    }


async def test_endpoints_on_the_platforms_network_are_refused_without_the_allow_list(client, settings, db):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    for url in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://localhost/"):
        r = await client.post("/webhooks/endpoints", headers=mill.headers, json={"url": url})
        body = problem(r, 422, "webhook_url_refused")
        assert body["errors"][0]["field"] == "$.url", body
    assert await db.fetchval("SELECT count(*) FROM webhook_endpoints") == 0


async def test_a_delivery_checks_the_address_before_connecting(settings):
    """Registered while allowed, delivered without: (DNS rebinding, an allow-list narrowed) the
    address is refused before a connection is opened: the receiver counts none. The same receiver
    allowed gets exactly one, so the count is real."""
    receiver = await Receiver().start()
    secret = signing.new_secret()
    receiver.secrets.append(secret)
    refusing = Deliverer(None, settings)  # type: ignore[arg-type]  # attempts need no database
    async with refusing.open_session() as session:
        for url in (receiver.url, receiver.url.replace("127.0.0.1", "localhost")):
            outcome = await refusing.attempt(session, delivery_row(url, secret))  # type: ignore[arg-type]
            assert not outcome.ok and outcome.status_code is None
            assert outcome.excerpt.startswith("refused before connecting"), outcome.excerpt
    assert receiver.connections == 0 and receiver.requests == []

    allowing = Deliverer(None, msgspec.structs.replace(settings, webhook_allow_hosts=LOCAL))  # type: ignore[arg-type]
    async with allowing.open_session() as session:
        outcome = await allowing.attempt(session, delivery_row(receiver.url, secret))  # type: ignore[arg-type]
    assert outcome.ok and outcome.status_code == 204
    assert receiver.connections == 1 and len(receiver.acknowledged) == 1
    await receiver.stop()


async def test_a_redirect_is_not_followed(settings: Settings):
    """The receiver redirects to another address (a private one: another receiver on loopback,
    allowed, that counts connections; and 10.0.0.1): the attempt fails with the 3xx and nothing
    else is called."""
    target = await Receiver().start()
    for location in (target.url, "http://10.0.0.1/steal"):
        redirecting = await Receiver(behaviour=lambda _d, where=location: (302, {"location": where})).start()
        deliverer = Deliverer(None, msgspec.structs.replace(settings, webhook_allow_hosts=LOCAL))  # type: ignore[arg-type]
        async with deliverer.open_session() as session:
            row = delivery_row(redirecting.url, signing.new_secret())
            outcome = await deliverer.attempt(session, row)  # type: ignore[arg-type]
        assert not outcome.ok and outcome.status_code == 302
        assert "not followed" in outcome.excerpt and location in outcome.excerpt
        assert len(redirecting.requests) == 1
        await redirecting.stop()
    assert target.connections == 0
    await target.stop()
