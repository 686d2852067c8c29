"""What a running app holds: its settings and the resources opened at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from dispatch.accounts.device_cache import DevicePrincipals
from dispatch.accounts.passwords import Passwords
from dispatch.db.availability import Availability
from dispatch.gate.site_queue import SiteQueues
from dispatch.loads.notices import DriverNotices
from dispatch.market.awards import AutoAuthorizer, CarrierRanker
from dispatch.market.notifications import MarketFeedHub
from dispatch.metrics import Metrics
from dispatch.realtime.broker import PgBroker
from dispatch.realtime.turns import Turns
from dispatch.settings import Settings
from dispatch.tracking.commit_group import CommitGroup
from dispatch.tracking.hub import TrackingHub
from dispatch.tracking.trip_row import Trip, TripKey


@dataclass
class Runtime:
    settings: Settings
    passwords: Passwords
    metrics: Metrics
    # The goods owner's automatic pickup authorization, run by the market on an award
    # (dispatch/market/awards.py: why it is handed in).
    authorize_on_award: AutoAuthorizer
    # A tender's carriers ordered by their scorecards, when the poster asks "by score"
    # (dispatch/market/awards.py: why it is handed in).
    rank_carriers: CarrierRanker
    # Tells drivers' phones of a truck or driver swapped on their load, run by the loads
    # (dispatch/loads/swaps.py: why it is handed in).
    tell_drivers: DriverNotices
    # The drivers' live sockets' shared view of each site's queue (dispatch/gate/site_queue.py).
    site_queues: SiteQueues = field(default_factory=SiteQueues, repr=False)
    # The drivers' sockets' bursts after a site's change, a batch per loop iteration (realtime/turns.py).
    turns: Turns = field(default_factory=Turns, repr=False)
    # Opened by the app's lifespan, in each worker process.
    pool: asyncpg.Pool | None = field(default=None, repr=False)
    pubsub: PgBroker | None = field(default=None, repr=False)
    feed_hub: MarketFeedHub | None = field(default=None, repr=False)
    tracking_hub: TrackingHub | None = field(default=None, repr=False)
    # GPS batches stored together, one transaction per group (dispatch/tracking/commit_group.py).
    ingest_commits: CommitGroup = field(default_factory=CommitGroup, repr=False)
    # The trip row of each driver's last GPS batch, for the next one (dispatch/tracking/ingest.py).
    kept_trips: dict[TripKey, Trip] = field(default_factory=dict, repr=False)
    # The GPS route's device principals, kept 10 s (dispatch/accounts/device_cache.py).
    device_principals: DevicePrincipals = field(default_factory=DevicePrincipals, repr=False)
    # Whether the database answers; logs each outage once (dispatch/db/availability.py).
    availability: Availability = field(default_factory=Availability, repr=False)

    @property
    def db(self) -> asyncpg.Pool:
        assert self.pool is not None, "the database pool opens at app start-up"
        return self.pool

    @property
    def broker(self) -> PgBroker:
        assert self.pubsub is not None, "the broker starts at app start-up"
        return self.pubsub

    @property
    def market_feed(self) -> MarketFeedHub:
        assert self.feed_hub is not None, "the market feed starts at app start-up"
        return self.feed_hub

    @property
    def tracking(self) -> TrackingHub:
        assert self.tracking_hub is not None, "the tracking hub starts at app start-up"
        return self.tracking_hub
