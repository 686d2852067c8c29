"""The pure parts of tracking: judging points, the trip's events, ETA, trails, the watcher outbox,
notification chunking."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.realtime.broker import MAX_PAYLOAD_BYTES
from dispatch.realtime.shared_text import SharedText
from dispatch.tracking import screening
from dispatch.tracking import trip as trips
from dispatch.tracking.hub import Frame, Watcher
from dispatch.tracking.models import EtaOut, PointIn, PointOut
from dispatch.tracking.notifications import PointsFrame, join_points, points_payloads
from geo import Position, haversine_m, parse_polygon, square
from geo.eta import CIRCUITY, DEFAULT_SPEED_MPS, MAX_SPEED_MPS, MIN_SPEED_MPS, Fix, estimate, update_speed
from geo.trail import implied_speed_mps, simplify

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BERLIN = Position(13.405, 52.52)
HAMBURG = Position(9.9937, 53.5511)


def pt(
    lon: float | None, lat: float | None, at: datetime, accuracy: float | None = 10.0, **kw: object
) -> PointIn:
    return PointIn(lon=lon, lat=lat, recorded_at=at, accuracy_m=accuracy, **kw)  # type: ignore[arg-type]


# -- screening --------------------------------------------------------------------------------


def test_each_point_is_judged_alone_and_jumps_against_the_previous_accepted_one():
    started = NOW - timedelta(hours=1)
    anchor = screening.Anchor(NOW - timedelta(minutes=10), BERLIN, 10.0)
    near = Position(BERLIN.lon - 0.01, BERLIN.lat)  # ~680 m west
    points = [
        pt(near.lon, near.lat, NOW - timedelta(minutes=9)),  # 0 ok
        pt(HAMBURG.lon, HAMBURG.lat, NOW - timedelta(minutes=8)),  # 1 jump
        pt(near.lon - 0.01, near.lat, NOW - timedelta(minutes=7)),  # 2 ok (vs 0, not vs 1)
        pt(near.lon, near.lat, NOW - timedelta(minutes=9)),  # 3 same time as 0: a duplicate
        pt(None, 52.0, NOW),  # 4 NaN arrives as null
        pt(13.0, 52.0, NOW, speed_mps=math.inf),  # 5
        pt(13.0, 52.0, NOW + timedelta(minutes=3)),  # 6 future
        pt(13.0, 52.0, NOW - timedelta(days=8)),  # 7 too old
        pt(13.0, 52.0, NOW, accuracy=-1),  # 8
    ]
    result = screening.screen(points, now=NOW, trip_started=started, anchor=anchor)
    assert [i for i, _ in result.accepted] == [0, 2]
    assert result.duplicates == 1
    assert [(r.index, r.reason) for r in result.rejected] == [
        (1, "impossible_jump"),
        (4, "not_finite"),
        (5, "not_finite"),
        (6, "in_future"),
        (7, "too_old"),
        (8, "inaccurate"),
    ]


_edgy = st.one_of(
    st.none(),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 90.0, -90.0, 180.0, -180.0, 1000.0]),
    st.floats(-200, 200),
    st.floats(-2000, 2000),
)
_times = st.sampled_from(
    [timedelta(minutes=m) for m in (-7 * 24 * 60 - 1, -7 * 24 * 60, -76, -75, -74, 0, 1.99, 2, 2.01, 3)]
)


@given(_edgy, _edgy, _edgy, _edgy, _edgy, _times)
def test_the_fast_path_accepts_exactly_what_the_checks_one_by_one_accept(
    lon, lat, accuracy, speed, heading, dt
):
    point = pt(lon, lat, NOW + dt, accuracy, speed_mps=speed, heading_deg=heading)
    started = NOW - timedelta(hours=1)
    latest = NOW + screening.CLOCK_SKEW
    earliest = max(started - screening.BEFORE_TRIP_SLACK, NOW - screening.MAX_AGE)
    fast = screening._plainly_good(point, latest, earliest)
    slow = screening._judge_alone(point, NOW, started)
    assert fast == (slow if isinstance(slow, screening.GoodPoint) else None)


def test_a_late_point_is_checked_against_its_batch_neighbours_not_the_newer_trail():
    anchor = screening.Anchor(NOW, HAMBURG, 10.0)  # the trail is already at Hamburg
    late = [
        pt(BERLIN.lon, BERLIN.lat, NOW - timedelta(hours=3)),
        pt(BERLIN.lon - 0.01, BERLIN.lat, NOW - timedelta(hours=3) + timedelta(minutes=1)),
    ]
    result = screening.screen(late, now=NOW, trip_started=NOW - timedelta(hours=4), anchor=anchor)
    assert [i for i, _ in result.accepted] == [0, 1] and not result.rejected
    # A newer point is checked against the stored trail.
    newer = [pt(BERLIN.lon, BERLIN.lat, NOW + timedelta(seconds=30))]
    result = screening.screen(
        newer, now=NOW + timedelta(minutes=1), trip_started=NOW - timedelta(hours=4), anchor=anchor
    )
    assert [r.reason for r in result.rejected] == ["impossible_jump"]


def test_the_accuracy_of_both_fixes_is_taken_off_the_distance():
    a, b = Position(13.0, 52.0), Position(13.0, 52.001)  # ~111 m
    assert implied_speed_mps(a, 60, b, 60, 1.0) == 0.0
    assert implied_speed_mps(a, 0, b, 0, 0.0) == math.inf
    assert implied_speed_mps(a, 0, b, 0, 10.0) == pytest.approx(11.1, rel=0.01)


@pytest.mark.parametrize(
    ("remaining", "speed", "battery", "interval"),
    [
        (3000, 20, 80, 5),
        (50_000, 20, 80, 10),
        (50_000, 0.2, 80, 30),
        (50_000, 20, 10, 30),
        (None, None, None, 10),
    ],
)
def test_the_reporting_interval_hint(remaining, speed, battery, interval):
    assert screening.next_interval_s(remaining_m=remaining, speed_mps=speed, battery_pct=battery) == interval


# -- the trip ---------------------------------------------------------------------------------

ROUTE = trips.Route(
    origin=BERLIN,
    origin_fence=parse_polygon(square(BERLIN)),
    destination=HAMBURG,
    destination_fence=parse_polygon(square(HAMBURG)),
)


def sample(p: Position, minutes: float, accuracy: float = 10.0) -> trips.Sample:
    return trips.Sample(NOW + timedelta(minutes=minutes), p, accuracy)


def test_leaving_the_origin_stopping_moving_and_arriving():
    out = Position(BERLIN.lon - 0.05, BERLIN.lat)
    state, events, eta = trips.advance(
        trips.TripState(), [sample(BERLIN, 0), sample(out, 2)], ROUTE, timedelta(minutes=20)
    )
    assert [e.type for e in events] == ["load.left_origin"] and events[0].at == NOW + timedelta(minutes=2)
    assert eta is not None and 0 < eta.progress < 0.1
    # Standing still 25 minutes (within 150 m), then driving on.
    still = [sample(Position(out.lon + 0.0005, out.lat), m) for m in range(5, 28, 3)]
    state, events, _ = trips.advance(state, still, ROUTE, timedelta(minutes=20))
    assert [e.type for e in events] == ["load.stopped"] and events[0].data["minutes"] >= 20
    state, events, _ = trips.advance(
        state, [sample(Position(out.lon - 0.02, out.lat), 30)], ROUTE, timedelta(minutes=20)
    )
    assert [e.type for e in events] == ["load.moving"]
    # A late fix inside the origin changes nothing; the destination fence (with accuracy) arrives.
    state, events, eta = trips.advance(state, [sample(BERLIN, 1)], ROUTE, timedelta(minutes=20))
    assert events == [] and eta is None
    edge = Position(HAMBURG.lon, HAMBURG.lat + 0.004 + 0.0005)  # ~55 m outside the fence
    state, events, eta = trips.advance(state, [sample(edge, 200, accuracy=80)], ROUTE, timedelta(minutes=20))
    assert [e.type for e in events] == ["load.arrived"] and state.arrived_at is not None
    assert eta is not None and eta.progress > 0.99


def test_no_stop_alert_while_queueing_inside_a_site():
    inside = [sample(BERLIN, m) for m in range(0, 60, 5)]
    _, events, _ = trips.advance(trips.TripState(), inside, ROUTE, timedelta(minutes=20))
    assert events == []


def test_a_time_scale_counts_each_second_between_fixes_as_that_many_seconds_of_driving():
    # 4.4 km in 2 s is 8,000 km/h on the clock, but 80 km/h when each second stands for 100.
    started = NOW - timedelta(minutes=5)
    anchor = screening.Anchor(NOW - timedelta(seconds=2), BERLIN, 5.0)
    ahead = Position(BERLIN.lon - 0.065, BERLIN.lat)
    batch = [pt(ahead.lon, ahead.lat, NOW, accuracy=5.0)]
    real = screening.screen(batch, now=NOW, trip_started=started, anchor=anchor)
    assert [r.reason for r in real.rejected] == ["impossible_jump"]
    fast = screening.screen(batch, now=NOW, trip_started=started, anchor=anchor, time_scale=100)
    assert fast.rejected == [] and len(fast.accepted) == 1
    # The ETA is measured in driving time and told on the clock: 100 times sooner.
    path = [Fix(NOW + timedelta(seconds=i), Position(13.0 + 0.0147 * i, 52.0)) for i in range(31)]
    speed = update_speed(DEFAULT_SPEED_MPS, path, time_scale=100)
    assert speed == pytest.approx(
        0.3 * haversine_m(path[0].position, path[-1].position) / 3000 + 0.7 * DEFAULT_SPEED_MPS, rel=1e-3
    )
    slow = estimate(Fix(NOW, BERLIN), BERLIN, HAMBURG, speed)
    scaled = estimate(Fix(NOW, BERLIN), BERLIN, HAMBURG, speed, time_scale=100)
    assert (scaled.eta_at - NOW) * 100 == pytest.approx(slow.eta_at - NOW, abs=timedelta(milliseconds=1))
    # Stop alerts: 20 minutes of driving time is 12 s on the clock.
    out = Position(BERLIN.lon - 0.05, BERLIN.lat)
    state, _, _ = trips.advance(trips.TripState(), [sample(out, 0)], ROUTE, timedelta(minutes=20), 100)
    still = trips.Sample(NOW + timedelta(seconds=13), out, 10.0)
    _, events, _ = trips.advance(state, [still], ROUTE, timedelta(minutes=20), 100)
    assert [e.type for e in events] == ["load.stopped"]


# -- ETA and trails ---------------------------------------------------------------------------


def test_eta_is_road_distance_over_smoothed_speed():
    last = Fix(NOW, BERLIN)
    eta = estimate(last, BERLIN, HAMBURG, DEFAULT_SPEED_MPS)
    straight = haversine_m(BERLIN, HAMBURG)
    assert eta.remaining_m == pytest.approx(straight * CIRCUITY)
    assert eta.eta_at == NOW + timedelta(seconds=straight * CIRCUITY / DEFAULT_SPEED_MPS)
    assert eta.progress == 0.0
    # 1 km a minute for ten minutes moves the estimate a third of the way towards 60 km/h ...
    path = [Fix(NOW + timedelta(minutes=i), Position(13.0 + 0.0147 * i, 52.0)) for i in range(11)]
    speed = update_speed(DEFAULT_SPEED_MPS, path)
    assert speed == pytest.approx(
        0.3 * haversine_m(path[0].position, path[-1].position) / 600 + 0.7 * DEFAULT_SPEED_MPS, rel=1e-3
    )
    # ... standing still pulls it down, but never below the floor; too short a span changes nothing.
    still = [Fix(NOW + timedelta(minutes=i), BERLIN) for i in range(30)]
    assert update_speed(MIN_SPEED_MPS, still) == MIN_SPEED_MPS
    assert update_speed(20.0, still[:1]) == 20.0
    assert update_speed(10_000.0, []) == MAX_SPEED_MPS


def test_simplify_keeps_the_shape_within_tolerance_and_the_ends():
    line = [Position(13.0 + i * 1e-4, 52.0 + (1e-6 if i % 2 else 0)) for i in range(5000)]
    kept = simplify(line, 10.0)
    assert kept[0] == line[0] and kept[-1] == line[-1] and len(kept) < 10
    corner = [Position(13.0, 52.0), Position(13.01, 52.0), Position(13.01, 52.01)]
    assert simplify(corner, 10.0) == corner


# -- the watcher outbox and the notification chunks -------------------------------------------


def frame(load, seq):
    return Frame("points", load, seq, seq, f'{{"seq":{seq}}}')


def test_a_full_outbox_keeps_the_newest_points_per_load_and_every_event():
    a, b = uuid4(), uuid4()
    w = Watcher(frozenset({a, b}), limit=4)
    for f in [frame(a, 1), Frame("event", a), frame(b, 1), frame(a, 2), frame(a, 3)]:
        w.offer(f)
    assert [(f.kind, f.load_id, f.last_seq) for f in w.outbox] == [
        ("event", a, 0),
        ("points", b, 1),
        ("points", a, 2),
        ("points", a, 3),
    ]
    assert w.coalesced and not w.kicked
    # Taking the outbox is catching up: the next overflow coalesces again instead of kicking.
    assert len(w.take()) == 4 and not w.coalesced


def test_a_watcher_that_stays_full_without_taking_is_kicked():
    a = uuid4()
    w = Watcher(frozenset({a}), limit=2)
    w.last_take = time.monotonic() - 5  # it has not read for five seconds
    for seq in range(1, 6):
        w.offer(frame(a, seq))
    assert w.kicked and not w.outbox
    # Hit by a burst while reading (it took just now): coalesced, not kicked.
    w2 = Watcher(frozenset({a}), limit=2)
    for seq in range(1, 50):
        w2.offer(frame(a, seq))
    assert not w2.kicked and w2.outbox[-1].last_seq == 49


def test_a_large_batch_is_split_into_notifications_that_fit():
    load = uuid4()
    points = [
        PointOut(
            seq=i,
            lon=13.0 + i * 1e-5,
            lat=52.0,
            recorded_at=NOW + timedelta(seconds=i),
            accuracy_m=5.0,
            speed_mps=20.0,
            heading_deg=270.0,
        )
        for i in range(1, 501)
    ]
    payloads = points_payloads(load, points, "in_transit", None)
    assert len(payloads) > 1 and all(len(p) <= MAX_PAYLOAD_BYTES for p in payloads)
    decoded = [msgspec.json.decode(p) for p in payloads]
    assert [s["seq"] for d in decoded for s in d["points"]] == list(range(1, 501))
    assert all(
        d["first_seq"] == d["points"][0]["seq"] and d["last_seq"] == d["points"][-1]["seq"] for d in decoded
    )


@given(
    count=st.integers(1, 500),
    eta=st.booleans(),
    accuracy=st.floats(0, 1000, width=32),
)
def test_the_pieces_of_a_batch_join_into_exactly_the_frame_of_the_whole_batch(count, eta, accuracy):
    load = uuid4()
    points = [
        PointOut(
            seq=i,
            lon=13.0 + i * 1.234567e-5,
            lat=52.0 - i * 7.654321e-6,
            recorded_at=NOW + timedelta(seconds=i, microseconds=i * 37),
            accuracy_m=accuracy,
            speed_mps=None if i % 3 else 20.5,
            heading_deg=270.0,
        )
        for i in range(1, count + 1)
    ]
    eta_out = None
    if eta:
        eta_out = EtaOut(
            eta_at=NOW + timedelta(hours=2),
            remaining_m=180123.5,
            progress=0.07,
            speed_mps=24.9,
            computed_at=NOW,
        )
    whole = msgspec.json.encode(
        PointsFrame(
            load_id=load,
            first_seq=1,
            last_seq=count,
            points=points,
            status="in_transit",
            eta=eta_out,
        )
    )
    pieces = points_payloads(load, points, "in_transit", eta_out)
    assert all(len(p) <= MAX_PAYLOAD_BYTES for p in pieces)
    # Only the last piece lacks `more`; a batch that fits is its one frame, without `more`.
    assert [b'"more":true' in p for p in pieces] == [True] * (len(pieces) - 1) + [False]
    assert (pieces == [whole]) == (len(whole) <= MAX_PAYLOAD_BYTES)
    assert join_points(pieces) == whole
    assert join_points([p.decode() for p in pieces]) == whole


class Socket:
    """What a watcher's socket does with a frame written at once: records it, while it is writable."""

    def __init__(self) -> None:
        self.writable = True
        self.written: list[bytes] = []

    def send_now(self, text: SharedText) -> bool:
        if self.writable:
            self.written.append(text.wire)
        return self.writable


def shared(load, first, last):
    data = msgspec.json.encode({"type": "points", "first_seq": first, "last_seq": last})
    return Frame("points", load, first, last, data, SharedText(data))


def test_an_idle_caught_up_watcher_is_written_at_once_and_any_other_queues_in_order():
    a, b = uuid4(), uuid4()
    socket = Socket()
    w = Watcher(frozenset({a, b}), limit=64, send_now=socket.send_now, sent={a: 10, b: 0}, idle=True)
    w.offer(shared(a, 11, 20))
    assert len(socket.written) == 1 and not w.outbox and w.sent[a] == 20
    # The same bytes for every socket: one frame, built once.
    other = Socket()
    f = shared(a, 21, 25)
    w2 = Watcher(frozenset({a}), limit=64, send_now=other.send_now, sent={a: 20}, idle=True)
    w.offer(f)
    w2.offer(f)
    assert socket.written[-1] is other.written[-1] and w.sent[a] == w2.sent[a] == 25
    # Not the next points of that load (a gap to report, or old ones): queued for the socket.
    w.offer(shared(b, 5, 6))
    assert [x.first_seq for x in w.outbox] == [5] and w.sent[b] == 0
    # Anything queued: what follows queues behind it, in order.
    w.offer(shared(a, 26, 30))
    assert [x.first_seq for x in w.outbox] == [5, 26] and w.sent[a] == 25
    w.take()
    # Not writable (the peer is behind), or the socket busy sending: queued, nothing written.
    socket.writable = False
    w.offer(shared(a, 26, 30))
    socket.writable, w.idle = True, False
    w.offer(shared(a, 31, 31))
    assert [x.first_seq for x in w.outbox] == [26, 31] and len(socket.written) == 2
    # Events always go through the socket's own path.
    w.take()
    w.idle = True
    w.offer(Frame("event", a, data="{}"))
    assert [x.kind for x in w.outbox] == ["event"]


def test_a_large_frame_counts_as_the_notifications_it_came_in():
    a = uuid4()
    big = "x" * (MAX_PAYLOAD_BYTES * 9)  # a 500-point batch's frame: nine notifications' worth
    w = Watcher(frozenset({a}), limit=64)
    w.last_take = time.monotonic() - 5  # not reading
    for seq in range(1, 9):
        w.offer(Frame("points", a, seq, seq, big))
    assert len(w.outbox) == 8 and not w.coalesced  # 72 notifications' worth: full
    w.offer(Frame("points", a, 9, 9, big))  # coalesced to the newest, as 64 small frames would be
    assert [f.last_seq for f in w.outbox] == [8, 9] and w.coalesced
    for seq in range(10, 17):
        w.offer(Frame("points", a, seq, seq, big))
    assert w.kicked  # full again without taking anything
    # One frame alone, however large, always fits.
    w2 = Watcher(frozenset({a}), limit=4)
    w2.offer(Frame("points", a, 1, 1, big))
    assert len(w2.outbox) == 1 and not w2.coalesced and not w2.kicked
