"""When a truck is late, with hysteresis (geo/lateness.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from geo.lateness import DEFAULT_GRACE, Lateness, judge

DUE = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
GRACE = timedelta(minutes=10)


def at(minutes: float) -> datetime:
    return DUE + timedelta(minutes=minutes)


def test_late_only_past_the_grace():
    assert DEFAULT_GRACE == GRACE
    assert judge(at(-30), DUE, GRACE, alerted=False) == Lateness(False, False, 0)
    assert judge(at(5), DUE, GRACE, alerted=False) == Lateness(False, False, 300)
    assert judge(at(10), DUE, GRACE, alerted=False) == Lateness(False, False, 600)
    assert judge(at(11), DUE, GRACE, alerted=False) == Lateness(True, True, 660)


def test_raised_once_until_the_eta_recovers_then_again_when_it_slips():
    etas = [at(-5), at(20), at(40), at(8), at(12), at(-1), at(3), at(15)]
    alerted, raised = False, []
    for i, eta in enumerate(etas):
        judged = judge(eta, DUE, GRACE, alerted)
        alerted = judged.alerted
        if judged.raise_now:
            raised.append(i)
    # 20 min late raises; 40, 8 (within the grace, not yet recovered) and 12 do not; back to 1 min
    # early recovers; 3 min late is within the grace; 15 raises again.
    assert raised == [1, 7]
