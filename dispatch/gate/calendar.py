"""Slots from a site's calendar, pure code.

Slots are not stored: they are generated from the opening hours (local time in the site's zone)
and the slot length, so changing the calendar changes future slots at once. A slot is
[start, start + length) and lies entirely within one opening period; days listed as closed have
none. Local times are converted with zoneinfo, so slots follow daylight-saving changes (a
nonexistent local time in the spring gap is skipped; an ambiguous one in the autumn takes its
first occurrence).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Opening:
    weekday: int  # 0 = Monday
    opens: time
    closes: time | None  # None: midnight at the end of the day


@dataclass(frozen=True)
class Calendar:
    timezone: str
    openings: tuple[Opening, ...]
    slot_minutes: int
    closed_dates: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime


def parse_hours(hours: Iterable[dict[str, object]]) -> tuple[Opening, ...]:
    """The sites' stored opening hours ({weekday, opens "HH:MM", closes "HH:MM" or "24:00"})."""
    result = []
    for h in hours:
        closes = str(h["closes"])
        result.append(
            Opening(
                int(str(h["weekday"])),
                time.fromisoformat(str(h["opens"])),
                None if closes == "24:00" else time.fromisoformat(closes),
            )
        )
    return tuple(result)


def _local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    local = datetime.combine(day, at, tzinfo=zone)
    # A local time in the spring-forward gap does not exist: it does not survive a round trip.
    round_trip = local.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return local.astimezone(UTC)


def slots_between(calendar: Calendar, start: datetime, end: datetime) -> Iterator[Slot]:
    """Every slot that begins at or after `start` and ends by `end` (both aware), in order."""
    zone = ZoneInfo(calendar.timezone)
    length = timedelta(minutes=calendar.slot_minutes)
    day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date()
    by_weekday: dict[int, list[Opening]] = {}
    for opening in calendar.openings:
        by_weekday.setdefault(opening.weekday, []).append(opening)
    while day <= last_day:
        if day not in calendar.closed_dates:
            for opening in sorted(by_weekday.get(day.weekday(), []), key=lambda o: o.opens):
                yield from _slots_of(day, opening, zone, length, start, end)
        day += timedelta(days=1)


def _slots_of(
    day: date, opening: Opening, zone: ZoneInfo, length: timedelta, start: datetime, end: datetime
) -> Iterator[Slot]:
    close_day, close_at = (day, opening.closes) if opening.closes else (day + timedelta(days=1), time(0))
    closes = _local_to_utc(close_day, close_at, zone)
    local = datetime.combine(day, opening.opens)
    local_close = datetime.combine(close_day, close_at)
    while local + length <= local_close:
        slot_start = _local_to_utc(local.date(), local.time(), zone)
        if slot_start is not None:
            slot_end = slot_start + length
            if closes is not None and slot_end <= closes and slot_start >= start and slot_end <= end:
                yield Slot(slot_start, slot_end)
        local += length


def slot_at(calendar: Calendar, slot_start: datetime) -> Slot | None:
    """The slot that starts exactly at `slot_start`, if the calendar has one."""
    for slot in slots_between(calendar, slot_start, slot_start + timedelta(minutes=calendar.slot_minutes)):
        if slot.start == slot_start:
            return slot
    return None
