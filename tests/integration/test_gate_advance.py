"""Loading started and loading complete in one statement (queries.ADVANCE_AT_OWN_SITE) against the
same moves step by step (the ticket locked, then ADVANCE, in a transaction): the same rows, events,
notifications and answers, also for a change that commits while the move waits for the ticket."""

import asyncio
import json
import re
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import msgspec

from dispatch.accounts import service as accounts
from dispatch.db.pool import create_pool
from dispatch.errors import Problem
from dispatch.gate import service
from dispatch.gate.notifications import site_channel
from dispatch.realtime.broker import PgBroker
from dispatch.tracking.notifications import track_channel
from tests.gate_support import dispatched_loads
from tests.market_support import BERLIN

INSIDE = {"lat": BERLIN[1], "lon": BERLIN[0]}


class _StepByStepBroker:
    """The app's own PostgreSQL broker, saying it cannot publish in SQL: `advance` then moves the
    ticket step by step, as for a broker outside PostgreSQL."""

    publishes_in_sql = False

    def __init__(self, broker: Any) -> None:
        self._broker = broker

    async def publish(self, conn: Any, channel: str, payload: str) -> None:
        await self._broker.publish(conn, channel, payload)


async def _called_tickets(client, settings, loads: int) -> tuple[dict[str, Any], list[str]]:
    """A yard with `loads` trucks checked in and each called to a dock: the world and the tickets."""
    w = await dispatched_loads(client, settings, loads=loads, docks=loads, places=1)
    for load in w["loads"]:
        r = await client.post(
            f"/driver/v1/loads/{load['id']}/check-in",
            headers=load["device"],
            json={"position": INSIDE, "accuracy_m": 5.0},
        )
        assert r.status_code == 201, r.text
    site = w["site"]["id"]
    board = (await client.get(f"/gate/sites/{site}/board", headers=w["staff"].headers)).json()
    tickets = []
    for dock in board["docks"]:
        r = await client.post(
            f"/gate/sites/{site}/call", headers=w["staff"].headers, json={"dock_id": dock["id"]}
        )
        assert r.status_code == 200, r.text
        tickets.append(r.json()["id"])
    return w, tickets


async def _answer(call: Any) -> Any:
    try:
        return msgspec.to_builtins(await call)
    except Problem as refused:
        return {"status": refused.status, "code": refused.code, "detail": refused.detail}


def _alike(value: Any, names: dict[str, str]) -> str:
    """`value` as text, with each way's own ids named alike and its times replaced."""
    text = json.dumps(value, default=str, sort_keys=True)
    for own, name in names.items():
        text = text.replace(own, name)
    return re.sub(r"\d{4}-\d\d-\d\d[T ][0-9:.]+(\+00:00|Z)?", "TIME", text)


async def _moves(client, settings, db, pool, broker) -> str:
    """A truck's moves and refusals from its call to its departure, and a few refused ones, through
    `broker`: what they answer, write and notify, with this world's ids named alike."""
    w, [ticket, other] = await _called_tickets(client, settings, loads=2)
    load = w["loads"][0]["id"]
    staff = await accounts.authenticate(pool, secret=settings.secret_key, token=w["staff"].token)
    stranger = await accounts.authenticate(pool, secret=settings.secret_key, token=w["carrier"].token)
    driver_token = w["loads"][0]["device"]["Authorization"].removeprefix("Bearer ")
    driver = await accounts.authenticate(pool, secret=settings.secret_key, token=driver_token)
    notices: list[str] = []
    listener = await asyncpg.connect(settings.database_url)
    for channel in (site_channel(UUID(w["site"]["id"])), track_channel(UUID(load))):
        await listener.add_listener(channel, lambda *a: notices.append(f"{a[2]} {a[3]}"))

    def advance(t: str, to: str, who: Any = staff) -> Any:
        return _answer(service.advance(pool, broker, who, UUID(t), to))

    def depart(load_id: str, who: Any = driver) -> Any:
        return _answer(service.depart(pool, broker, who, UUID(load_id)))

    answers = [
        await advance(ticket, "loaded"),  # not loading yet
        await advance(ticket, "loading"),
        await advance(ticket, "loading"),  # again
        await depart(load),  # not loaded yet
        await advance(ticket, "loaded"),
        await advance(ticket, "loaded"),  # again
        await depart(w["loads"][1]["id"]),  # another driver's load
        await depart(load, staff),  # not a load of the caller's carrier
        await depart(load),
        await depart(load),  # again
        await advance(str(uuid4()), "loading"),  # no such ticket
        await advance(other, "loading", stranger),  # not a ticket at the caller's sites
    ]
    await listener.execute("SELECT 1")  # deliver what was notified
    await listener.close()
    rows = {
        "answers": answers,
        "ticket": dict(
            await db.fetchrow(
                "SELECT status, loading_started_at IS NOT NULL AS started, departed_at IS NOT NULL AS left,"
                " loading_completed_at IS NOT NULL AS completed FROM queue_tickets WHERE id = $1",
                UUID(ticket),
            )
        ),
        "load": await db.fetchval("SELECT status FROM loads WHERE id = $1", UUID(load)),
        "trip": [
            dict(r) for r in await db.fetch("SELECT * FROM load_tracking WHERE load_id = $1", UUID(load))
        ],
        "events": [
            dict(e)
            for e in await db.fetch(
                "SELECT type, org_ids, subject_type, subject_id, actor_user_id, data FROM events"
                " WHERE subject_id = $1 AND type IN ('load.loading', 'load.loaded', 'load.departed')"
                " ORDER BY id",
                load,
            )
        ],
        "notices": notices,
    }
    names = {
        ticket: "TICKET",
        load: "LOAD",
        UUID(load).hex: "LOAD",
        w["site"]["id"]: "SITE",
        UUID(w["site"]["id"]).hex: "SITE",
        w["mill"].org_id: "MILL",
        w["carrier"].org_id: "CARRIER",
        str(staff.user_id): "STAFF",
        str(driver.user_id): "DRIVER",
        w["job"]["id"]: "JOB",
    }
    others = await db.fetchrow(
        'SELECT l.vehicle_id AS "VEHICLE", l.driver_user_id AS "DRIVER", t.dock_id AS "DOCK",'
        ' j.poster_org_id AS "POSTER", j.consignee_org_id AS "CONSIGNEE", t.booking_id AS "BOOKING"'
        " FROM queue_tickets t JOIN loads l ON l.id = t.load_id JOIN jobs j ON j.id = l.job_id"
        " WHERE t.id = $1",
        UUID(ticket),
    )
    names |= {str(v): k for k, v in others.items() if v is not None}
    return _alike(rows, names)


async def test_the_moves_in_one_statement_write_and_answer_what_the_steps_write_and_answer(
    client, settings, db
):
    """Loading started, loading complete and the departure, each one statement (ADVANCE_AT_OWN_SITE,
    DEPART) or step by step in a transaction (a broker that cannot publish in SQL): the same
    answers and refusals, rows, events and notifications."""
    pool = await create_pool(settings.database_url)
    pg_broker = PgBroker(settings.database_url)
    try:
        one_statement = await _moves(client, settings, db, pool, pg_broker)
        step_by_step = await _moves(client, settings, db, pool, _StepByStepBroker(pg_broker))
    finally:
        await pool.close()
    assert one_statement == step_by_step
    for code in ("wrong_ticket_state", "ticket_not_found", "not_loaded", "load_not_found"):
        assert f'"code": "{code}"' in one_statement, code
    for event in ("load.loading", "load.loaded", "load.departed"):
        assert f'"type": "{event}"' in one_statement, event
    assert '"load": "in_transit"' in one_statement and "track_LOAD" in one_statement


async def test_a_move_waiting_on_a_change_in_flight_is_answered_from_the_change(client, settings, db):
    """Loading started while another change to the ticket holds its row (here: the same move,
    committed by another session) is refused as it would be after that change, both ways."""
    pool = await create_pool(settings.database_url)
    pg_broker = PgBroker(settings.database_url)
    answers = []
    try:
        for step_by_step in (False, True):
            w, [ticket] = await _called_tickets(client, settings, loads=1)
            p = await accounts.authenticate(pool, secret=settings.secret_key, token=w["staff"].token)
            broker = _StepByStepBroker(pg_broker) if step_by_step else pg_broker
            other = await asyncpg.connect(settings.database_url)
            try:
                async with other.transaction():
                    await other.execute(
                        "UPDATE queue_tickets SET status = 'loading', loading_started_at = now()"
                        " WHERE id = $1",
                        UUID(ticket),
                    )
                    waiting = asyncio.ensure_future(
                        _answer(service.advance(pool, broker, p, UUID(ticket), "loading"))
                    )
                    # The move waits for the ticket's row lock (pg_locks shows it waiting).
                    for _ in range(200):
                        if await db.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted") > 0:
                            break
                        await asyncio.sleep(0.05)
                    else:
                        raise AssertionError("the move never waited for the ticket")
                    assert not waiting.done()
            finally:
                await other.close()
            answers.append(await waiting)
            events = await db.fetchval(
                "SELECT count(*) FROM events WHERE type = 'load.loading' AND subject_id = $1",
                w["loads"][0]["id"],
            )
            assert events == 0  # the move wrote nothing
    finally:
        await pool.close()
    assert (
        answers[0]
        == answers[1]
        == {
            "status": 409,
            "code": "wrong_ticket_state",
            "detail": "The truck is loading, not called.",
        }
    )


async def test_a_departure_waiting_on_another_departure_is_refused_not_loaded(client, settings, db):
    """Two departures of one load at once depart it once: the second, waiting for the ticket's row
    while the first commits, reads again and is refused `not_loaded`, writing nothing."""
    pool = await create_pool(settings.database_url)
    try:
        w, [ticket] = await _called_tickets(client, settings, loads=1)
        load = w["loads"][0]
        for move in ("loading", "loaded"):
            r = await client.post(f"/gate/tickets/{ticket}/{move}", headers=w["staff"].headers)
            assert r.status_code == 200, r.text
        token = load["device"]["Authorization"].removeprefix("Bearer ")
        driver = await accounts.authenticate(pool, secret=settings.secret_key, token=token)
        other = await asyncpg.connect(settings.database_url)
        try:
            async with other.transaction():
                # The first departure's change, held uncommitted while the second starts.
                await other.execute(
                    "UPDATE queue_tickets SET status = 'departed', departed_at = now() WHERE id = $1",
                    UUID(ticket),
                )
                second = asyncio.ensure_future(
                    _answer(service.depart(pool, PgBroker(settings.database_url), driver, UUID(load["id"])))
                )
                for _ in range(200):
                    if await db.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted") > 0:
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("the departure never waited for the ticket")
                assert not second.done()
        finally:
            await other.close()
        assert await second == {
            "status": 409,
            "code": "not_loaded",
            "detail": "The truck can leave once its loading is complete.",
        }
        written = await db.fetchval(
            "SELECT count(*) FROM events WHERE type = 'load.departed' AND subject_id = $1", load["id"]
        )
        trips = await db.fetchval("SELECT count(*) FROM load_tracking WHERE load_id = $1", UUID(load["id"]))
        assert (written, trips) == (0, 0)  # the second wrote nothing (the first here is the test's UPDATE)
    finally:
        await pool.close()
