"""The metrics' tallies, added in bulk, give what prometheus_client's per-call API gives; the tracking
hub reports its watchers' overflows."""

from __future__ import annotations

import time
from uuid import uuid4

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dispatch.metrics import Metrics
from dispatch.tracking.hub import Frame, Watcher


def samples(text: bytes, prefix: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name.removeprefix(prefix), frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text.decode())
        for s in family.samples
        if s.name.startswith(prefix) and not s.name.endswith("_created")
    }


def test_tallied_requests_match_one_call_per_request():
    times = [0.0001, 0.005, 0.0051, 0.03, 0.3, 0.3, 2.0, 9.99, 10.0, 42.0]
    answers = [("/jobs/{job_id}", "GET", 200), ("/jobs/{job_id}", "GET", 404), ("unmatched", "BREW", 405)]
    m = Metrics(None)
    registry = CollectorRegistry()
    requests = Counter("ref_http_requests", "", ["route", "method", "status"], registry=registry)
    duration = Histogram("ref_http_request_duration_seconds", "", ["route", "method"], registry=registry)
    now = time.perf_counter()
    for i, seconds in enumerate(times):
        route, method, status = answers[i % len(answers)]
        m.observe_http(route, method, status, seconds, now)
        method = method if method != "BREW" else "other"
        requests.labels(route, method, str(status)).inc()
        duration.labels(route, method).observe(seconds)
    ours = samples(m.exposition(), "dispatch_")
    reference = samples(generate_latest(registry), "ref_")
    odd = frozenset({("route", "unmatched"), ("method", "other"), ("status", "405")})
    assert ours["http_requests_total", odd] == 3
    assert {k: v for k, v in ours.items() if k[0].startswith("http_")} == reference


def test_gps_batches_are_counted_by_outcome_and_reason():
    m = Metrics(None)
    m.gps_batch(3, 0, ["in_future", "too_old", "in_future"])
    m.gps_batch(0, 2, [])
    got = samples(m.exposition(), "dispatch_gps_")
    assert got["points_accepted_total", frozenset()] == 3
    assert got["points_duplicate_total", frozenset()] == 2
    assert got["points_rejected_total", frozenset({("reason", "in_future")})] == 2
    assert got["points_rejected_total", frozenset({("reason", "too_old")})] == 1


def test_a_watcher_reports_each_overflow_coalesced_then_closed():
    load = uuid4()
    outcomes: list[str] = []
    w = Watcher(frozenset({load}), limit=2, on_overflow=outcomes.append)
    for seq in range(1, 4):  # the third frame overflows: coalesced to the newest
        w.offer(Frame("points", load, seq, seq, "{}"))
    assert outcomes == ["coalesced"] and not w.kicked
    w.last_take = time.monotonic() - 5  # then it has not read for five seconds: behind for good
    for seq in range(4, 8):
        w.offer(Frame("points", load, seq, seq, "{}"))
    assert outcomes == ["coalesced", "closed"] and w.kicked
