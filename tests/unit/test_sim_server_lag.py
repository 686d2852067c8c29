"""The simulator's reading of the server's loop-lag histogram (dispatch/sim/server_lag.py): pure logic."""

import math

from dispatch.sim.server_lag import parse, window

BEFORE = """# HELP dispatch_event_loop_lag_seconds How late
# TYPE dispatch_event_loop_lag_seconds histogram
dispatch_event_loop_lag_seconds_bucket{le="0.001"} 10.0
dispatch_event_loop_lag_seconds_bucket{le="0.01"} 12.0
dispatch_event_loop_lag_seconds_bucket{le="0.1"} 12.0
dispatch_event_loop_lag_seconds_bucket{le="+Inf"} 12.0
dispatch_event_loop_lag_seconds_count 12.0
dispatch_claim_loop_lag_seconds_bucket{le="0.001"} 99.0
"""


def test_buckets_are_summed_over_series_and_other_metrics_ignored():
    two_workers = BEFORE + BEFORE.replace("# HELP", "# ignored").split("histogram\n", 1)[1]
    counts = parse(two_workers)
    assert counts == {0.001: 20.0, 0.01: 24.0, 0.1: 24.0, math.inf: 24.0}  # the claim loop's not in it


def test_a_window_gives_its_p99_and_max_as_bucket_bounds():
    before = parse(BEFORE)
    # 100 wake-ups since: 98 under 1 ms, one under 10 ms, one past 100 ms.
    after = {0.001: 10.0 + 98, 0.01: 12.0 + 99, 0.1: 12.0 + 99, math.inf: 12.0 + 100}
    w = window(before, after)
    assert w is not None and w.samples == 100
    assert w.p99_le == 0.01 and w.max_le == math.inf
    assert window(before, before) is None
