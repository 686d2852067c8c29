"""Exactness per sequence number: did one socket get every point of one load exactly once, in order?

Counting points is not enough (a gap and a duplicate cancel out). A watcher records the `seq` of
every point of the load it receives; at the end the load's last `seq` (the phone's ingest answer
carries it) says what it should have had: every seq after the one its snapshot stood at, up to the
last, once each, rising.
"""

from __future__ import annotations

import msgspec


class Verdict(msgspec.Struct, frozen=True):
    """What one socket got of one load, against the load's last seq."""

    received: int  # points received, repeats included
    expected: int  # points it should have received: last seq - the snapshot's seq
    gaps: int  # seqs missing below the highest one received (a hole in the middle)
    duplicates: int  # points received again (or already in the snapshot's trail)
    out_of_order: int  # points received after a higher seq
    short: bool  # ended before the load's last seq (its tail is missing)
    beyond: int  # seqs above the last one the phone was told of (should never happen)

    @property
    def exact(self) -> bool:
        return not (self.gaps or self.duplicates or self.out_of_order or self.short or self.beyond)


class SeqCheck:
    """The seqs one socket received of one load, from the snapshot's `last_seq` (`start`) on."""

    def __init__(self, start: int = 0) -> None:
        self.start = start
        self.seen: set[int] = set()
        self.highest = start
        self.received = 0
        self.duplicates = 0
        self.out_of_order = 0

    def receive(self, seq: int) -> None:
        self.received += 1
        if seq <= self.start or seq in self.seen:
            self.duplicates += 1
            return
        if seq < self.highest:
            self.out_of_order += 1
        self.seen.add(seq)
        self.highest = max(self.highest, seq)

    def verdict(self, last_seq: int) -> Verdict:
        wanted = range(self.start + 1, last_seq + 1)
        below_highest = range(self.start + 1, min(self.highest, last_seq) + 1)
        return Verdict(
            received=self.received,
            expected=len(wanted),
            gaps=sum(seq not in self.seen for seq in below_highest),
            duplicates=self.duplicates,
            out_of_order=self.out_of_order,
            short=self.highest < last_seq,
            beyond=sum(seq > last_seq for seq in self.seen),
        )
