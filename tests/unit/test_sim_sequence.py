"""The simulator's exactness check per sequence number (dispatch/sim/sequence.py): a socket must get
every seq of its load after its snapshot, once each, rising, up to the load's last seq; a gap and a
duplicate no longer cancel out (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from dispatch.sim.flow import _decode_watch
from dispatch.sim.sequence import SeqCheck, Verdict
from dispatch.tracking.models import ApproachOut, ApproachPoint
from dispatch.tracking.notifications import approach_payloads


def received(seqs: list[int], *, start: int = 0, last_seq: int) -> Verdict:
    check = SeqCheck(start)
    for seq in seqs:
        check.receive(seq)
    return check.verdict(last_seq)


def test_every_seq_once_in_order_is_exact() -> None:
    v = received([1, 2, 3, 4, 5], last_seq=5)
    assert v == Verdict(received=5, expected=5, gaps=0, duplicates=0, out_of_order=0, short=False, beyond=0)
    assert v.exact


def test_a_socket_opened_later_expects_only_the_seqs_after_its_snapshot() -> None:
    assert received([4, 5, 6], start=3, last_seq=6).exact
    # A point its snapshot's trail already held, sent again, is a duplicate.
    again = received([3, 4, 5, 6], start=3, last_seq=6)
    assert (again.duplicates, again.exact) == (1, False)


def test_a_gap_and_a_duplicate_do_not_cancel_out() -> None:
    v = received([1, 2, 2, 4, 5], last_seq=5)  # as many points as expected, but 3 is missing
    assert v.received == v.expected == 5
    assert (v.gaps, v.duplicates, v.out_of_order, v.short) == (1, 1, 0, False)
    assert not v.exact


def test_a_late_point_is_out_of_order_not_a_gap() -> None:
    v = received([1, 3, 2, 4], last_seq=4)
    assert (v.gaps, v.duplicates, v.out_of_order, v.short) == (0, 0, 1, False)
    assert not v.exact


def test_a_socket_that_ends_before_the_last_seq_is_short() -> None:
    v = received([1, 2, 3], last_seq=5)
    assert (v.gaps, v.short, v.expected, v.received) == (0, True, 5, 3)
    assert not v.exact
    # One that got nothing at all is short too.
    assert received([], last_seq=2).short
    # A load that never moved: nothing expected, nothing received, exact.
    assert received([], last_seq=0).exact


def test_holes_in_the_middle_are_counted_per_missing_seq() -> None:
    v = received([1, 5, 6], last_seq=6)
    assert (v.gaps, v.short) == (3, False)


def test_a_seq_beyond_the_last_known_one_is_not_exact() -> None:
    v = received([1, 2, 3], last_seq=2)
    assert (v.beyond, v.exact) == (1, False)


def test_the_drive_to_the_pickup_is_no_points_frame_to_the_simulators_watcher() -> None:
    # An `approach` frame (fixes without seq) decodes in the watcher as a frame with no points, so a
    # socket's seq check counts only the trip's points (README "The drive to the pickup, live").
    at = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    fix = ApproachPoint(lon=13.7, lat=52.52, recorded_at=at, accuracy_m=8.0)
    state = ApproachOut(
        load_id=uuid4(), started_at=at, eta_at=None, remaining_m=None, slot_starts_at=None, late=False
    )
    (payload,) = approach_payloads(state.load_id, [fix, fix], "assigned", state)
    frame = _decode_watch(payload)
    assert (frame.type, frame.load_id, frame.points) == ("approach", str(state.load_id), [])
