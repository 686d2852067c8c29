"""GPS ingest: per-point judgement, exactly-once storage, malformed batches, the trip's events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from litestar import Litestar

from dispatch.app import create_app
from tests.market_support import BERLIN, HAMBURG
from tests.support import problem
from tests.tracking_support import loads_in_transit, point, route


async def _count(db, load_id: str) -> int:
    return await db.fetchval("SELECT count(*) FROM positions WHERE load_id = $1", load_id)


async def test_bad_points_are_rejected_with_their_reasons_and_the_rest_stored(client, settings, db):
    w = await loads_in_transit(client, settings)
    load = w["loads"][0]
    now = datetime.now(UTC)
    good = route(3, start=now - timedelta(seconds=40))
    batch = [
        good[0],
        point(BERLIN[0], 95.0, now - timedelta(seconds=35)),  # 1: latitude out of range
        point(200.0, BERLIN[1], now - timedelta(seconds=34)),  # 2: longitude out of range
        {**point(*BERLIN, now - timedelta(seconds=33)), "lat": None},  # 3: NaN, as JSON sends it
        point(*BERLIN, now + timedelta(minutes=10)),  # 4: in the future
        point(*BERLIN, now - timedelta(hours=2)),  # 5: before the trip started
        point(*HAMBURG, now - timedelta(seconds=25)),  # 6: 255 km in 5 s
        point(*BERLIN, now - timedelta(seconds=24), accuracy_m=5000),  # 7: inaccurate
        good[1],
        good[2],
    ]
    r = await client.post("/driver/v1/positions", headers=load["device"], json={"points": batch})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 3 and body["duplicates"] == 0
    assert [(x["index"], x["reason"]) for x in body["rejected"]] == [
        (1, "latitude_out_of_range"),
        (2, "longitude_out_of_range"),
        (3, "not_finite"),
        (4, "in_future"),
        (5, "too_old"),
        (6, "impossible_jump"),
        (7, "inaccurate"),
    ]
    assert all(x["detail"] for x in body["rejected"])
    assert "km/h" in body["rejected"][5]["detail"]
    assert body["loads"] == [{"load_id": load["id"], "last_seq": 3, "status": "in_transit"}]
    assert body["next_interval_s"] in (5, 10, 30)
    assert await _count(db, load["id"]) == 3


async def test_repeated_and_late_points_are_stored_once_and_numbered_in_storage_order(client, settings, db):
    w = await loads_in_transit(client, settings)
    load = w["loads"][0]
    fixes = route(12)
    post = lambda pts: client.post("/driver/v1/positions", headers=load["device"], json={"points": pts})  # noqa: E731
    # The phone sends the newer half first, then (back online) its buffer with an overlap and a
    # point twice in one batch; then retries the whole second batch.
    first = await post(fixes[6:])
    assert first.json()["accepted"] == 6
    late = await post([*fixes[:7], fixes[3]])
    assert late.json()["accepted"] == 6 and late.json()["duplicates"] == 2
    retry = await post([*fixes[:7], fixes[3]])
    assert retry.json()["accepted"] == 0 and retry.json()["duplicates"] == 8
    rows = await db.fetch(
        "SELECT seq, recorded_at FROM positions WHERE load_id = $1 ORDER BY seq", load["id"]
    )
    assert [r["seq"] for r in rows] == list(range(1, 13))
    stored = [r["recorded_at"] for r in rows]
    assert len(set(stored)) == 12
    # Storage order: the newer six first, then the late six in time order.
    assert stored[:6] == sorted(stored[:6]) and stored[6:] == sorted(stored[6:]) and stored[6] < stored[0]
    r = await client.get(f"/loads/{load['id']}/positions", headers=w["receiver"].headers, params={"limit": 5})
    assert [p["seq"] for p in r.json()["points"]] == [1, 2, 3, 4, 5] and r.json()["next_after"] == 5
    # The trail is drawn in the phone's time order, whatever order the points came in.
    track = (await client.get(f"/loads/{load['id']}/tracking", headers=w["receiver"].headers)).json()
    assert track["points_total"] == 12 and len(track["trail"]) == 12
    assert track["trail"][0] == [round(fixes[0]["lon"], 6), round(fixes[0]["lat"], 6)]
    assert track["last"]["recorded_at"][:19] == fixes[-1]["recorded_at"][:19]


async def test_a_malformed_batch_is_refused_whole_and_stores_nothing(client, settings, db):
    w = await loads_in_transit(client, settings)
    load = w["loads"][0]
    ok = route(2)
    bad_batches = [
        {"points": []},
        {"points": [ok[0]] * 501},
        {"points": [ok[0], {**ok[1], "lat": "north"}]},  # not a number
        {"points": [ok[0], {k: v for k, v in ok[1].items() if k != "recorded_at"}]},
        {"points": [ok[0], {**ok[1], "recorded_at": "2026-12-01T10:00:00"}]},  # no zone
        {"points": [ok[0], {**ok[1], "altitude": 30}]},  # unknown field
        {"points": [ok[0], {**ok[1], "battery_pct": 140}]},
    ]
    for body in bad_batches:
        r = await client.post("/driver/v1/positions", headers=load["device"], json=body)
        problem(r, 400, "validation_failed")
    r = await client.post(
        "/driver/v1/positions", headers=load["device"] | {"content-type": "application/json"}, content=b"[{"
    )
    problem(r, 400)
    assert await _count(db, load["id"]) == 0
    assert await db.fetchval("SELECT last_seq FROM load_tracking WHERE load_id = $1", load["id"]) == 0


async def test_points_need_a_load_in_transit_of_the_driver(client, settings):
    w = await loads_in_transit(client, settings, loads=2, depart_all=False)
    first, second = w["loads"]
    body = {"points": route(1)}
    problem(
        await client.post("/driver/v1/positions", headers=first["device"], json=body), 409, "not_in_transit"
    )
    named = body | {"load_id": second["id"]}
    problem(
        await client.post("/driver/v1/positions", headers=first["device"], json=named), 404, "load_not_found"
    )
    named = body | {"load_id": first["id"]}
    problem(
        await client.post("/driver/v1/positions", headers=first["device"], json=named), 409, "not_in_transit"
    )
    r = await client.post("/driver/v1/positions", headers=w["carrier"].headers, json=body)
    problem(r, 403, "wrong_credential_kind")


async def test_leaving_the_gate_arriving_and_a_long_stop_raise_events(client, settings, db):
    w = await loads_in_transit(client, settings)
    load = w["loads"][0]
    # The trip started three hours ago (the phone sends what it buffered since).
    await db.execute("UPDATE load_tracking SET departed_at = now() - interval '3 hours 1 minute'")
    now = datetime.now(UTC)
    start = now - timedelta(hours=3)
    fixes = route(5, start=start, step_s=60)  # leaves the mill's geofence at the third fix
    stop_at = (fixes[-1]["lon"], fixes[-1]["lat"])
    standing = [point(*stop_at, start + timedelta(minutes=5 + m)) for m in range(1, 26, 3)]  # 24 min still
    moving_on = [point(stop_at[0] - 0.01, stop_at[1], start + timedelta(minutes=32))]
    at_buyer = [point(*HAMBURG, now - timedelta(minutes=1))]  # ~2.5 h later: plausible
    for pts in (fixes, standing, moving_on, at_buyer):
        r = await client.post("/driver/v1/positions", headers=load["device"], json={"points": pts})
        assert r.status_code == 200 and not r.json()["rejected"], r.text
    assert r.json()["loads"][0]["status"] == "arrived"
    assert r.json()["next_interval_s"] == 5  # near the destination
    types = [
        row["type"]
        for row in await db.fetch(
            "SELECT type FROM events WHERE subject_id = $1 AND type LIKE 'load.%' ORDER BY id", load["id"]
        )
    ]
    assert types[-4:] == ["load.left_origin", "load.stopped", "load.moving", "load.arrived"]
    stopped = await db.fetchval(
        "SELECT data FROM events WHERE subject_id = $1 AND type = 'load.stopped'", load["id"]
    )
    assert '"minutes": 2' in stopped  # 20 to 29 minutes, alerted at the configured 20
    assert await db.fetchval("SELECT status FROM loads WHERE id = $1", load["id"]) == "arrived"
    track = (await client.get(f"/loads/{load['id']}/tracking", headers=w["receiver"].headers)).json()
    assert [e["type"] for e in track["timeline"]] == [
        "load.departed",
        "load.left_origin",
        "load.stopped",
        "load.moving",
        "load.arrived",
    ]
    assert track["eta"]["progress"] > 0.99 and track["eta"]["remaining_m"] < 1000


async def test_a_retried_batch_with_an_idempotency_key_gets_the_first_answer(client, settings, db):
    w = await loads_in_transit(client, settings)
    load = w["loads"][0]
    body = {"points": route(4)}
    headers = load["device"] | {"Idempotency-Key": "batch-0001"}
    first = await client.post("/driver/v1/positions", headers=headers, json=body)
    again = await client.post("/driver/v1/positions", headers=headers, json=body)
    assert first.json()["accepted"] == 4 and again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert await _count(db, load["id"]) == 4


async def test_a_batch_after_a_stored_one_is_checked_as_fully_as_the_first(client, settings, db):
    """The service keeps the trip row it last stored for the driver's next batch: whatever changed in
    between (a batch it did not store, a revoked token) must count as if it read the row afresh."""
    w = await loads_in_transit(client, settings)
    load = w["loads"][0]
    fixes = route(25)
    post = lambda pts, **extra: client.post(  # noqa: E731
        "/driver/v1/positions", headers=load["device"], json={"points": pts, **extra}
    )
    for part in (fixes[0:5], fixes[5:10]):
        r = await post(part, load_id=load["id"])
        assert r.status_code == 200 and r.json()["accepted"] == 5, r.text
    # A batch stored by another road, so the kept row is stale: here the locked transaction (one of
    # its points is stored already), as a batch on another worker would be. The next batch must
    # still be numbered after it.
    r = await post([fixes[9], *fixes[10:15]])
    assert r.json()["accepted"] == 5 and r.json()["duplicates"] == 1, r.text
    r = await post(fixes[15:20], load_id=load["id"])
    assert r.json()["accepted"] == 5 and r.json()["loads"][0]["last_seq"] == 20, r.text
    rows = await db.fetch(
        "SELECT seq, recorded_at FROM positions WHERE load_id = $1 ORDER BY seq", load["id"]
    )
    assert [r["seq"] for r in rows] == list(range(1, 21))
    assert [r["recorded_at"] for r in rows] == sorted(r["recorded_at"] for r in rows)
    assert await db.fetchval("SELECT last_seq FROM load_tracking WHERE load_id = $1", load["id"]) == 20

    assert (await post(fixes[20:22], load_id=load["id"])).json()["accepted"] == 2
    # Revoked after a stored batch, by another worker: this process's caches (the device principal,
    # the kept trip row) do not hear of it. The next batch is refused and stores nothing.
    revoke = "UPDATE device_tokens d SET revoked_at = now() FROM loads l WHERE l.driver_user_id = d.user_id"
    await db.execute(revoke + " AND l.id = $1", load["id"])
    problem(await post(fixes[22:25], load_id=load["id"]), 401, "token_revoked")
    assert await _count(db, load["id"]) == 22


async def test_batches_arriving_during_a_commit_are_stored_together_each_exactly_once(client, settings, db):
    """Group commit: the batches that queue up while the process's commit turn is held go into the
    next holder's one transaction (one WAL flush, one pass of PostgreSQL's notify lock), each still
    stored and answered as if alone. A batch that cannot go with the others (its trip moved on since
    the row was read) takes the locked road and is still stored once."""
    w = await loads_in_transit(client, settings, loads=3)
    loads = w["loads"]
    start = datetime.now(UTC) - timedelta(minutes=5)
    fixes = route(10, start=start)
    async with app_on_this_loop(settings) as (app, post):
        # A first batch each, alone, so the next ones are plain batches (no departure event).
        for load in loads:
            assert (await post(load, fixes[0:3])).json()["accepted"] == 3
        group = app.state.runtime.ingest_commits
        async with group.turn:  # a commit in flight
            posts = [asyncio.ensure_future(post(load, fixes[3:6])) for load in loads]
            await _until(lambda: group.waiting == 3)
            # A second batch of the first load, read before the first one's is stored: it cannot go
            # with it (the trip's last_seq is no longer what it read) and takes the locked road.
            stale = asyncio.ensure_future(post(loads[0], fixes[5:8]))
            await _until(lambda: group.waiting == 4)
        answers = [(await p).json() for p in [*posts, stale]]
    assert [a["accepted"] for a in answers] == [3, 3, 3, 2]
    assert answers[3]["duplicates"] == 1  # fixes[5] was stored by the first load's grouped batch
    assert [a["loads"][0]["last_seq"] for a in answers] == [6, 6, 6, 8]
    grouped = await db.fetch(
        "SELECT DISTINCT xmin::text FROM positions WHERE load_id = ANY($1::uuid[]) AND seq BETWEEN 4 AND 6",
        [load["id"] for load in loads],
    )
    assert len(grouped) == 1, grouped  # one transaction stored the three batches
    for load, total in zip(loads, (8, 6, 6), strict=True):
        rows = await db.fetch("SELECT seq FROM positions WHERE load_id = $1 ORDER BY seq", load["id"])
        assert [r["seq"] for r in rows] == list(range(1, total + 1))


async def test_a_group_is_stored_all_or_nothing(client, settings, db):
    """A group's STORE_BATCH executions go as one pipeline with no BEGIN: PostgreSQL runs them as one
    implicit transaction, so when one of them fails, those before it in the pipeline are rolled back
    too, and every batch of the group starts over (read again, then stored) and is stored once."""
    w = await loads_in_transit(client, settings, loads=3)
    loads = w["loads"]
    fixes = route(10, start=datetime.now(UTC) - timedelta(minutes=5))
    # The group stores its batches in load order: the last load's insert fails once, after the other
    # two loads' batches were executed in the same pipeline. (A sequence is not rolled back, so the
    # failure happens once; the ordinary road's insert then goes through.)
    last = max(load["id"] for load in loads)
    await db.execute(
        f"""
        CREATE SEQUENCE fail_once;
        CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.load_id = '{last}' AND NEW.seq > 3 THEN
                IF nextval('fail_once') = 1 THEN
                    RAISE EXCEPTION 'the group fails here';
                END IF;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER fail_once BEFORE INSERT ON positions FOR EACH ROW EXECUTE FUNCTION fail_once();
        """
    )
    async with app_on_this_loop(settings) as (app, post):
        for load in loads:  # alone first (the departure's event), leaving each trip row kept
            assert (await post(load, fixes[0:3])).json()["accepted"] == 3
        group = app.state.runtime.ingest_commits
        async with group.turn:  # the three batches go into one group
            posts = [asyncio.ensure_future(post(load, fixes[3:6])) for load in loads]
            await _until(lambda: group.waiting == 3)
        answers = [(await p).json() for p in posts]
    # It failed on the group's first row of that load; the ordinary road then inserted its three.
    assert await db.fetchval("SELECT last_value FROM fail_once") == 1 + 3
    # Nothing of the failed group stayed: each batch was stored afresh, in full (a batch the group
    # had left behind would have come back as duplicates).
    assert [(a["accepted"], a["duplicates"]) for a in answers] == [(3, 0)] * 3
    for load in loads:
        rows = await db.fetch("SELECT seq FROM positions WHERE load_id = $1 ORDER BY seq", load["id"])
        assert [r["seq"] for r in rows] == list(range(1, 7))
        assert await db.fetchval("SELECT last_seq FROM load_tracking WHERE load_id = $1", load["id"]) == 6


@asynccontextmanager
async def app_on_this_loop(
    settings,
) -> AsyncIterator[tuple[Litestar, Callable[[dict, list], Awaitable[httpx.Response]]]]:
    """The app served on this test's event loop (its lifespan run here), and a phone's post of points
    to one load: a test that holds the app's commit turn holds a lock of the loop serving the
    requests (the test client serves them on a thread of its own)."""
    app = create_app(settings)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as http,
    ):

        def post(load: dict, pts: list) -> Awaitable[httpx.Response]:
            return http.post(
                "/driver/v1/positions", headers=load["device"], json={"points": pts, "load_id": load["id"]}
            )

        yield app, post


async def _until(condition: Callable[[], bool], within_s: float = 10.0) -> None:
    for _ in range(int(within_s / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not true within {within_s} s")
