"""Live tracking against a real server with two worker processes and real websocket clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, InvalidStatus

from dispatch.sim.sequence import SeqCheck
from tests.market_support import BERLIN, HAMBURG
from tests.support import add_member, bootstrap_org, problem
from tests.tracking_support import depart, loads_in_transit, point, route

pytestmark = pytest.mark.server
TOO_SLOW = 4008


async def frames_until(ws: Any, kind: str, within_s: float = 15.0) -> list[dict[str, Any]]:
    """Every frame up to and including the first of `kind`."""
    got = []
    async with asyncio.timeout(within_s):
        while True:
            frame = json.loads(await ws.recv())
            got.append(frame)
            if frame["type"] == kind:
                return got


def seqs(frames: list[dict[str, Any]]) -> list[int]:
    return [p["seq"] for f in frames if f["type"] == "points" for p in f["points"]]


async def collect_points(ws: Any, count: int, within_s: float = 20.0) -> list[dict[str, Any]]:
    """Frames until `count` points have arrived."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(within_s):
        while len(seqs(got)) < count:
            got.append(json.loads(await ws.recv()))
    return got


async def test_buyer_and_seller_watch_every_point_once_in_order_until_receipt(server_factory, settings):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        seller = await add_member(http, w["mill"], "shipper")
        url = f"{server.ws_url}/tracking/jobs/{w['job']['id']}/live"
        async with (
            connect(url, additional_headers=w["receiver"].headers) as buyer_ws,
            connect(url, additional_headers=seller.headers) as seller_ws,
        ):
            for ws in (buyer_ws, seller_ws):
                snap = json.loads(await ws.recv())
                assert snap["type"] == "snapshot" and snap["resumed"] is False
                (track,) = snap["loads"]
                assert track["load_id"] == load["id"] and track["status"] == "in_transit"
                assert track["last_seq"] == 0 and track["trail"] == []
                assert [e["type"] for e in track["timeline"]] == ["load.departed"]
            fixes = route(60)
            for i in range(0, 60, 10):  # six batches, alternating between the two workers' pools
                r = await http.post(
                    "/driver/v1/positions", headers=load["device"], json={"points": fixes[i : i + 10]}
                )
                assert r.status_code == 200, r.text
                assert r.json()["accepted"] == 10 and r.json()["rejected"] == []
            for ws in (buyer_ws, seller_ws):
                got = await collect_points(ws, 60)
                assert seqs(got) == list(range(1, 61))  # every point once, in order
                points = [p for f in got if f["type"] == "points" for p in f["points"]]
                assert [p["recorded_at"][:19] for p in points] == [f["recorded_at"][:19] for f in fixes]
                assert "load.left_origin" in [f["event"]["type"] for f in got if f["type"] == "event"]

            r = await http.post(
                f"/loads/{load['id']}/receipt",
                headers=w["receiver"].headers,
                json={
                    "received": {"items": [{"line": 0, "count": 1}]},
                    "condition": "good",
                    "signer_name": "K. Krause",
                    "override_reason": "Unloaded at the roadside depot by arrangement",
                },
            )
            assert r.status_code == 201, r.text
            assert r.json()["job_status"] == "completed"
            for ws in (buyer_ws, seller_ws):
                tail = await frames_until(ws, "final")
                assert [f["type"] for f in tail][-2:] == ["received", "final"]
                with pytest.raises(ConnectionClosedOK):
                    await asyncio.wait_for(ws.recv(), 10)
                assert ws.close_code == 1000
        late = [point(*HAMBURG)]
        for body in ({"points": late}, {"points": late, "load_id": load["id"]}):
            r = await http.post("/driver/v1/positions", headers=load["device"], json=body)
            assert problem(r, 409, "load_received")["load_id"] == load["id"]
            assert "receipt was confirmed" in r.json()["detail"]


async def test_a_watcher_that_reconnects_with_its_cursor_gets_exactly_the_missed_points(
    server_factory, settings
):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        fixes = route(50)
        post = lambda pts: http.post("/driver/v1/positions", headers=load["device"], json={"points": pts})  # noqa: E731
        url = f"{server.ws_url}/tracking/loads/{load['id']}/live?access_token={w['receiver'].token}"
        async with connect(url) as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            await post(fixes[:20])
            seen = seqs(await collect_points(ws, 20))
        assert seen == list(range(1, 21))
        # Offline: the points keep coming (and one batch is retried).
        await post(fixes[20:35])
        await post(fixes[20:35])
        async with connect(f"{url}&after={load['id']}:{seen[-1]}") as ws:
            snap = json.loads(await ws.recv())
            assert snap["resumed"] is True and snap["loads"][0]["trail"] == []
            assert snap["loads"][0]["last_seq"] == 35
            missed = await collect_points(ws, 15)
            assert seqs(missed) == list(range(21, 36))
            await post(fixes[35:])  # then live ones, continuing the sequence
            live = await collect_points(ws, 15)
            assert seqs(live) == list(range(36, 51))
        # A fresh watcher (no cursor) gets the whole trail in its snapshot instead.
        async with connect(url) as ws:
            snap = json.loads(await ws.recv())
            assert snap["loads"][0]["last_seq"] == 50 and len(snap["loads"][0]["trail"]) == 50


async def _refused(url: str, **kw: Any) -> int:
    with pytest.raises(InvalidStatus) as exc:
        async with connect(url, **kw):
            pass
    body = json.loads(exc.value.response.body)
    assert body["code"] and body["detail"]
    return exc.value.response.status_code


async def test_only_the_parties_and_live_share_links_may_watch(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        job_id, load = w["job"]["id"], w["loads"][0]
        other = await loads_in_transit(http, settings, loads=1)  # another buyer's job
        base = f"{server.ws_url}/tracking/jobs/{job_id}/live"
        assert await _refused(base, additional_headers=other["receiver"].headers) == 404
        assert (
            await _refused(
                f"{server.ws_url}/tracking/loads/{load['id']}/live?access_token={other['buyer'].token}"
            )
            == 404
        )
        assert await _refused(base) == 401
        assert await _refused(base, additional_headers=load["device"]) == 403  # a driver's device token
        outsider = await bootstrap_org(http, settings, "Nosy", ["consignee"])
        assert await _refused(base, additional_headers=outsider.headers) == 404
        no_view = await add_member(http, w["buyer"], "driver")  # a role without tracking.view
        assert await _refused(base, additional_headers=no_view.headers) == 403

        r = await http.post(
            f"/jobs/{job_id}/share-links", headers=w["receiver"].headers, json={"expires_in_minutes": 60}
        )
        assert r.status_code == 201, r.text
        link = r.json()
        assert link["url"] == f"/track/jobs/{job_id}#share={link['token']}"
        async with connect(f"{base}?share={link['token']}") as ws:
            snap = json.loads(await ws.recv())
            assert snap["type"] == "snapshot" and snap["job"]["id"] == job_id
        # A share link opens its own job only.
        other_job = f"{server.ws_url}/tracking/jobs/{other['job']['id']}/live?share={link['token']}"
        assert await _refused(other_job) == 404
        await db.execute(
            "UPDATE share_links SET expires_at = now() - interval '1 second' WHERE id = $1", link["id"]
        )
        assert await _refused(f"{base}?share={link['token']}") == 401
        r = await http.post(
            f"/jobs/{job_id}/share-links", headers=w["receiver"].headers, json={"expires_in_minutes": 5}
        )
        revocable = r.json()
        r = await http.post(
            f"/jobs/{job_id}/share-links/{revocable['id']}/revoke", headers=w["receiver"].headers
        )
        assert r.status_code == 200 and r.json()["revoked_at"]
        assert await _refused(f"{base}?share={revocable['token']}") == 401
        assert await _refused(f"{base}?share=dsp_shr_forged") == 401
        links = (await http.get(f"/jobs/{job_id}/share-links", headers=w["receiver"].headers)).json()
        assert {x["id"] for x in links} == {link["id"], revocable["id"]} and "token" not in links[0]
        r = await http.post(
            f"/jobs/{job_id}/share-links", headers=other["receiver"].headers, json={"expires_in_minutes": 5}
        )
        problem(r, 404, "job_not_found")


def _crawl(n: int, start: datetime) -> list[dict[str, Any]]:
    """n fixes a second apart, 20 m apart, heading west from near Berlin."""
    return [point(13.3 - 0.0003 * i, 52.52, start + timedelta(seconds=i)) for i in range(n)]


async def test_a_watcher_that_stops_reading_does_not_delay_the_others(server_factory, settings, db):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        await db.execute("UPDATE load_tracking SET departed_at = now() - interval '1 day'")
        total = 40_000
        fixes = _crawl(total, datetime.now(UTC) - timedelta(seconds=total + 60))
        url = f"{server.ws_url}/tracking/loads/{load['id']}/live?access_token={w['receiver'].token}"
        slow_sock = socket.socket()
        slow_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow_sock.connect(("127.0.0.1", int(server.base_url.rsplit(":", 1)[1])))
        async with connect(url, sock=slow_sock, max_queue=1) as slow, connect(url) as fast:
            await slow.recv()  # the snapshot; then it stops reading
            assert json.loads(await fast.recv())["type"] == "snapshot"

            async def phone() -> None:
                for i in range(0, total, 500):
                    r = await http.post(
                        "/driver/v1/positions", headers=load["device"], json={"points": fixes[i : i + 500]}
                    )
                    assert r.status_code == 200 and r.json()["accepted"] == 500, r.text

            posting = asyncio.create_task(phone())
            got = await collect_points(fast, total, within_s=240)
            await posting
            assert seqs(got) == list(range(1, total + 1))  # the fast one got everything, in order
            # The slow one was let go: it got what its buffers held, then the close as too slow.
            frames: list[dict[str, Any]] = []
            with contextlib.suppress(ConnectionClosed):
                async with asyncio.timeout(60):
                    while True:
                        frames.append(json.loads(await slow.recv()))
            assert slow.close_code == TOO_SLOW and "too slow" in slow.close_reason
            assert len(seqs(frames)) < total


async def test_a_large_batch_is_one_frame_with_the_same_bytes_for_every_watcher(server_factory, settings):
    # Compression on: one watcher asks for permessage-deflate (its socket compresses on its own),
    # the others do not (they get the frame's bytes as built once).
    server = server_factory(workers=2, ws_compression=True)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        job_id, load = w["job"]["id"], w["loads"][0]
        seller = await add_member(http, w["mill"], "shipper")
        r = await http.post(
            f"/jobs/{job_id}/share-links", headers=w["receiver"].headers, json={"expires_in_minutes": 60}
        )
        token = r.json()["token"]
        job_url = f"{server.ws_url}/tracking/jobs/{job_id}/live"
        load_url = f"{server.ws_url}/tracking/loads/{load['id']}/live"
        async with contextlib.AsyncExitStack() as stack:
            sockets = [
                await stack.enter_async_context(
                    connect(job_url, additional_headers=w["receiver"].headers, compression=None)
                ),
                await stack.enter_async_context(
                    connect(load_url, additional_headers=seller.headers, compression="deflate")
                ),
                await stack.enter_async_context(connect(f"{job_url}?share={token}", compression=None)),
            ]
            assert [bool(ws.protocol.extensions) for ws in sockets] == [False, True, False]
            for ws in sockets:
                assert json.loads(await ws.recv())["type"] == "snapshot"
            fixes = route(180, step_s=4.0)
            for batch in (fixes[:120], fixes[120:]):  # 120 points: far over one notification's 8000 bytes
                r = await http.post("/driver/v1/positions", headers=load["device"], json={"points": batch})
                assert r.status_code == 200 and r.json()["accepted"] == len(batch), r.text
            raw: list[list[str]] = []
            for ws in sockets:
                frames: list[str] = []
                async with asyncio.timeout(20):
                    while len(seqs([json.loads(f) for f in frames])) < 180:
                        frame = await ws.recv()
                        assert isinstance(frame, str)  # a text frame, as every frame
                        if json.loads(frame)["type"] == "points":
                            frames.append(frame)
                got = [json.loads(f) for f in frames]
                # One frame per batch, every point once, in order, as in the batch.
                assert [len(f["points"]) for f in got] == [120, 60]
                assert [(f["first_seq"], f["last_seq"]) for f in got] == [(1, 120), (121, 180)]
                assert seqs(got) == list(range(1, 181))
                points = [p for f in got for p in f["points"]]
                assert [p["recorded_at"][:19] for p in points] == [f["recorded_at"][:19] for f in fixes]
                assert all("more" not in f for f in got)
                raw.append(frames)
            # The same bytes for every watcher, whichever worker and however it asked.
            assert raw[0] == raw[1] == raw[2]
            # A watcher resuming mid-batch gets exactly the rest, from the database.
            async with connect(f"{load_url}?access_token={w['receiver'].token}&after={load['id']}:100") as ws:
                snap = json.loads(await ws.recv())
                assert snap["resumed"] is True and snap["loads"][0]["last_seq"] == 180
                assert seqs(await collect_points(ws, 80)) == list(range(101, 181))


async def approach_fixes_until(ws: Any, count: int, within_s: float = 20.0) -> list[dict[str, Any]]:
    """Frames until `count` fixes of the drive to the pickup have arrived."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(within_s):
        while sum(len(f["fixes"]) for f in got if f["type"] == "approach") < count:
            got.append(json.loads(await ws.recv()))
    return got


async def test_watchers_see_the_drive_to_the_pickup_live_then_the_trip_with_its_seqs_intact(
    server_factory, settings
):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1, depart_all=False)
        load = w["loads"][0]
        seller = await add_member(http, w["mill"], "shipper")
        url = f"{server.ws_url}/tracking/jobs/{w['job']['id']}/live"
        positions = lambda pts: http.post(  # noqa: E731
            "/driver/v1/positions", headers=load["device"], json={"points": pts}
        )
        r = await http.post(f"/driver/v1/loads/{load['id']}/start-to-pickup", headers=load["device"])
        assert r.status_code == 200, r.text
        # The truck 20 km east of the mill, driving towards it: 12 fixes, then 150 (a phone's
        # buffer after a dead zone: more than one notification holds), 5 s and ~110 m apart.
        start = datetime.now(UTC) - timedelta(seconds=5 * 162)
        fixes = [
            point(BERLIN[0] + 0.3 - 0.0016 * i, BERLIN[1], start + timedelta(seconds=5 * i))
            for i in range(162)
        ]
        async with (
            connect(url, additional_headers=w["receiver"].headers) as buyer_ws,
            connect(url, additional_headers=seller.headers) as seller_ws,
        ):
            for ws in (buyer_ws, seller_ws):
                (track,) = json.loads(await ws.recv())["loads"]
                assert track["status"] == "assigned" and track["approach"]["last"] is None
            for part in (fixes[:12], fixes[12:], fixes[12:]):  # the last one a retry: stored once
                r = await positions(part)
                assert r.status_code == 200, r.text
            got = {ws: await approach_fixes_until(ws, 162) for ws in (buyer_ws, seller_ws)}
            for frames in got.values():
                drive = [f for f in frames if f["type"] == "approach"]
                assert len(drive) > 2  # the big batch came in several frames, each whole
                sent = [fx for f in drive for fx in f["fixes"]]
                assert [datetime.fromisoformat(fx["recorded_at"]) for fx in sent] == [
                    datetime.fromisoformat(fx["recorded_at"]) for fx in fixes
                ]
                assert all("seq" not in fx for fx in sent) and "points" not in drive[0]
                latest = drive[-1]
                assert latest["load_id"] == load["id"] and latest["status"] == "assigned"
                assert (latest["approach"]["last"]["lon"], latest["approach"]["last"]["lat"]) == (
                    fixes[-1]["lon"],
                    fixes[-1]["lat"],
                )
                assert latest["approach"]["eta_at"] is not None and latest["approach"]["remaining_m"] > 0
            # A watcher opening now sees where the truck is on its way.
            async with connect(url, additional_headers=seller.headers) as late_ws:
                (track,) = json.loads(await late_ws.recv())["loads"]
                assert track["approach"]["last"]["lon"] == fixes[-1]["lon"] and track["last_seq"] == 0

            # At the gate, loaded, departed: the delivery trip's points follow on the same sockets,
            # numbered from 1, each once, with no approach fix taken for one of them.
            await depart(http, w, load)
            trip = route(30)
            for i in range(0, 30, 10):
                assert (await positions(trip[i : i + 10])).json()["accepted"] == 10
            for ws in (buyer_ws, seller_ws):
                frames = await collect_points(ws, 30)
                assert [f for f in frames if f["type"] == "approach"] == []  # the retry published nothing
                check = SeqCheck(start=0)
                for seq in seqs(frames):
                    check.receive(seq)
                assert check.verdict(30).exact and seqs(frames) == list(range(1, 31))
