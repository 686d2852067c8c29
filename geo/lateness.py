"""When a truck counts as late, with hysteresis. Pure: no I/O.

A late alert is raised when the ETA is later than what is due (a booked slot's start, a job's
deliver-by) plus a grace; it is raised once and stands until the ETA recovers to what is due itself
(without the grace). Only a truck that recovered and then slipped again raises it again: an ETA
that wobbles around the threshold does not alert on every batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_GRACE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Lateness:
    alerted: bool  # the alert stands after this ETA
    raise_now: bool  # this ETA raises it
    late_by_s: int  # how much later than due the ETA is (0 or more)


def judge(eta_at: datetime, due_at: datetime, grace: timedelta, alerted: bool) -> Lateness:
    """The alert's state after a new ETA, given whether it stood before."""
    late_by = max(0, round((eta_at - due_at).total_seconds()))
    if not alerted and eta_at > due_at + grace:
        return Lateness(alerted=True, raise_now=True, late_by_s=late_by)
    if alerted and eta_at <= due_at:
        return Lateness(alerted=False, raise_now=False, late_by_s=0)
    return Lateness(alerted=alerted, raise_now=False, late_by_s=late_by)
