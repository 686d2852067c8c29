from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

from dispatch.gate import calendar as cal
from dispatch.gate import queue as q

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TOL = timedelta(minutes=15)


def _calendar(**kw):
    base = dict(timezone="Europe/Berlin", openings=(cal.Opening(0, time(6), time(8)),), slot_minutes=30)
    return cal.Calendar(**(base | kw))


def test_slots_follow_opening_hours_in_the_site_zone():
    monday = datetime(2026, 11, 23, tzinfo=UTC)
    slots = list(cal.slots_between(_calendar(), monday, monday + timedelta(days=1)))
    # 06:00-08:00 Berlin (UTC+1 in November) is 05:00-07:00 UTC: four 30-minute slots.
    assert [s.start.strftime("%H:%M") for s in slots] == ["05:00", "05:30", "06:00", "06:30"]
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)


def test_slots_follow_daylight_saving_and_skip_closed_days():
    march = datetime(2026, 3, 30, tzinfo=UTC)  # the Monday after the spring change (29 March): UTC+2
    slots = list(cal.slots_between(_calendar(), march, march + timedelta(days=1)))
    assert slots[0].start.strftime("%H:%M") == "04:00"
    closed = _calendar(closed_dates=frozenset({date(2026, 3, 30)}))
    assert list(cal.slots_between(closed, march, march + timedelta(days=1))) == []


def test_a_day_open_until_midnight_and_slot_at():
    full = _calendar(openings=tuple(cal.Opening(d, time(0), None) for d in range(7)), slot_minutes=60)
    day = datetime(2026, 11, 23, tzinfo=UTC)
    assert len(list(cal.slots_between(full, day, day + timedelta(days=1)))) == 24
    assert cal.slot_at(full, datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) is not None
    assert cal.slot_at(full, datetime(2026, 11, 23, 9, 30, tzinfo=UTC)) is None


def _w(arrived_min, slot_min=None, kind="flatbed"):
    slot = None if slot_min is None else NOW + timedelta(minutes=slot_min)
    return q.Waiting(uuid4(), NOW + timedelta(minutes=arrived_min), slot, kind)


def test_queue_order_on_time_then_late_and_walk_ins_by_arrival_then_early():
    on_time_late_slot = _w(-20, slot_min=-10)  # slot began 10 min ago, arrived before it
    late_by_25 = _w(-5, slot_min=-30)  # arrived 25 min after its slot began: late
    on_time = _w(-2, slot_min=-5)  # arrived 3 min after its slot began
    late = _w(-40, slot_min=-60)  # arrived 20 min after its slot began
    walk_in = _w(-30)
    early = _w(-50, slot_min=+20)  # slot still ahead
    ordered = q.order([early, walk_in, late, on_time, late_by_25, on_time_late_slot], NOW, TOL)
    assert ordered == [on_time_late_slot, on_time, late, walk_in, late_by_25, early]
    assert [q.callable_now(t, NOW, TOL) for t in ordered] == [True, True, True, True, True, False]


def test_estimated_wait_as_documented():
    s = timedelta(minutes=30)
    assert q.estimated_wait(0, 2, s, [], NOW, None) == timedelta()
    assert q.estimated_wait(3, 2, s, [], NOW, None) == timedelta(minutes=30)
    # Both docks busy for 10 and 25 minutes: the first frees in 5 minutes.
    busy = [timedelta(minutes=10), timedelta(minutes=25)]
    assert q.estimated_wait(0, 2, s, busy, NOW, None) == timedelta(minutes=5)
    assert q.estimated_wait(2, 2, s, busy, NOW, None) == timedelta(minutes=35)
    # An early truck waits at least for its slot.
    assert q.estimated_wait(0, 2, s, [], NOW, NOW + timedelta(minutes=40)) == timedelta(minutes=40)
    assert q.mean_service([timedelta(minutes=20), timedelta(minutes=40)]) == timedelta(minutes=30)
    assert q.mean_service([]) == q.DEFAULT_SERVICE
