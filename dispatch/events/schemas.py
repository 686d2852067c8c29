"""The schema of each event type's `data`, versioned: what the events API and webhook bodies carry.

One registry, `SCHEMAS`: every type `events.record` is called with (tests/unit/test_event_schemas.py
checks the source for calls whose type is missing here). The versioning rule (docs/events.md): adding
an optional member keeps the version; removing, renaming or retyping one, or making a member
required, is a new version of the type (`EventType.version`), announced in the changelog.
Times are RFC 3339 strings, ids are UUID strings, weights whole kilograms, money minor units.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec


class Data(msgspec.Struct, kw_only=True):
    """Base of every data schema. Consumers must ignore members they do not know (additive changes)."""


class NoData(Data):
    """The event says what happened to its subject; `data` is `{}`."""


# -- organizations, members, roles, credentials ---------------------------------------------------


class OrganizationCreated(Data):
    name: str
    admin: UUID
    country: str
    currency: str
    timezone: str
    locale: str


class OrganizationUpdated(Data):
    """Only the settings that changed."""

    country: str | msgspec.UnsetType = msgspec.UNSET
    currency: str | msgspec.UnsetType = msgspec.UNSET
    timezone: str | msgspec.UnsetType = msgspec.UNSET
    locale: str | msgspec.UnsetType = msgspec.UNSET


class MarketSettingsChanged(Data):
    auto_authorize_pickup: bool


class SessionsEnded(Data):
    ended: int


class MemberRoles(Data):
    role_ids: list[UUID]


class RoleCreated(Data):
    name: str
    permissions: list[str]


class RoleUpdated(Data):
    name: str
    permissions: list[str] | msgspec.UnsetType = msgspec.UNSET  # when they changed


class RoleDeleted(Data):
    name: str


class ApiTokenIssued(Data):
    name: str
    role_id: UUID


class DeviceTokenIssued(Data):
    user_id: UUID
    name: str
    pairing_id: UUID | msgspec.UnsetType = msgspec.UNSET  # issued by pairing a phone
    signed_in: bool | msgspec.UnsetType = msgspec.UNSET  # issued by the driver signing in


class PairingCreated(Data):
    user_id: UUID
    expires_at: datetime


class PairingRevoked(Data):
    user_id: UUID


# -- sites, fleet -------------------------------------------------------------------------------


class SiteCreated(Data):
    name: str


class DockAdded(Data):
    dock: str


class VehicleAdded(Data):
    plate: str


# -- market -------------------------------------------------------------------------------------


class JobPosted(Data):
    mode: str
    origin_site_id: UUID


class JobAwarded(Data):
    carrier_org_id: UUID
    price_minor: int
    currency: str
    bid_id: UUID | None


class BidChanged(Data):
    job_id: UUID
    amount_minor: int


class BidWithdrawn(Data):
    job_id: UUID


# -- authorizations, plans, loads ---------------------------------------------------------------


class AuthorizationIssued(Data):
    job_id: UUID
    valid_from: datetime
    valid_until: datetime


class AuthorizationRevoked(Data):
    job_id: UUID
    reason: str


class PlanSaved(Data):
    trips: int
    cost_minor: int


class LoadsConfirmed(Data):
    loads: int


class LoadAssigned(Data):
    driver_user_id: UUID
    vehicle_id: UUID


class LoadReassigned(Data):
    """A truck or driver swapped on a load already assigned (or the goods owner approving the swap)."""

    load_id: UUID
    job_id: UUID
    vehicle_id: UUID
    plate_display: str
    driver_user_id: UUID
    previous_vehicle_id: UUID
    previous_driver_user_id: UUID
    approval: Literal["not_needed", "pending", "approved"]


class LoadSwapRefused(Data):
    load_id: UUID
    job_id: UUID
    vehicle_id: UUID
    driver_user_id: UUID
    reason: str


class ShareLinkCreated(Data):
    share_link_id: UUID
    expires_at: datetime


class ShareLinkRevoked(Data):
    share_link_id: UUID


# -- the gate -----------------------------------------------------------------------------------


class Slot(Data):
    slot_start: datetime


class CheckedIn(Data):
    arrival: Literal["walk_in", "early", "on_time", "late"]
    by: str  # "driver" (the app) or "staff" (the gate)


class DriverMessaged(Data):
    text: str


# -- evidence, the trip, the receipt ------------------------------------------------------------


class EvidenceRecorded(Data):
    """A record appended to the load's evidence chain, to every party of the job. `head` is the new
    record's hash (hex SHA-256), i.e. the chain's new head: keep it; a later rewrite of the chain no
    longer contains it (`GET /loads/{id}/evidence/verify`, or offline `--head`)."""

    job_id: UUID
    seq: int
    kind: str
    head: str


class TripPosition(Data):
    job_id: UUID
    at: datetime
    lon: float
    lat: float


class TripStopped(Data):
    job_id: UUID
    at: datetime
    since: datetime
    minutes: int
    lon: float
    lat: float


class TripMoving(Data):
    job_id: UUID
    at: datetime
    stopped_minutes: int


class LateForSlot(Data):
    """The truck on its way to the pickup will miss the start of its booked slot (by more than the grace)."""

    load_id: UUID
    job_id: UUID
    at: datetime  # the fix the ETA was computed from
    eta_at: datetime
    slot_starts_at: datetime
    late_by_s: int


class LateDelivery(Data):
    """The truck on the road will arrive after the job's deliver-by (by more than the grace)."""

    load_id: UUID
    job_id: UUID
    at: datetime
    eta_at: datetime
    deliver_by: datetime
    late_by_s: int


class OffRoute(Data):
    """The truck left the corridor around the expected route (the fix that made it so)."""

    load_id: UUID
    job_id: UUID
    at: datetime
    distance_m: int
    lon: float
    lat: float


class BackOnRoute(Data):
    load_id: UUID
    job_id: UUID
    at: datetime


class LoadReceived(Data):
    job_id: UUID
    received_weight_kg: int
    discrepancy_kg: int
    condition: str
    evidence_head: str  # the hash of the receipt record, the evidence chain's last head


class WebhookTest(Data):
    endpoint_id: str


class WebhookAttempt(Data):
    status_code: int | None
    response_excerpt: str | None


class WebhookEndpointDisabled(Data):
    endpoint_id: str
    url: str
    failed_event_id: str  # the event whose delivery ran out of retries
    last_attempt: WebhookAttempt


# -- tenders, and awards withdrawn ----------------------------------------------------------------


class TenderOffered(Data):
    job_id: UUID
    carrier_org_id: UUID
    rank: int
    price_minor: int
    currency: str
    expires_at: datetime


class TenderAnswered(Data):
    job_id: UUID
    carrier_org_id: UUID
    rank: int


class TenderDeclined(TenderAnswered):
    reason: str


class TenderExhausted(Data):
    job_id: UUID
    then: Literal["grab", "auction", "expired"]


class AwardWithdrawn(Data):
    job_id: UUID
    carrier_org_id: UUID
    reason: str


class JobRetendered(Data):
    job_id: UUID
    to: Literal["tender", "market"]
    mode: Literal["tender", "grab", "auction"]
    excluded_carrier_org_ids: list[UUID]


class EventType(msgspec.Struct, frozen=True):
    version: int
    data: type[Data]
    summary: str


SCHEMAS: dict[str, EventType] = {
    "organization.created": EventType(1, OrganizationCreated, "An organization was registered"),
    "organization.updated": EventType(1, OrganizationUpdated, "Regional settings changed"),
    "organization.market_settings_changed": EventType(1, MarketSettingsChanged, "Market settings changed"),
    "member.added": EventType(1, MemberRoles, "A member was added with these roles"),
    "member.roles_changed": EventType(1, MemberRoles, "A member's roles were replaced"),
    "member.removed": EventType(1, NoData, "A member was removed"),
    "member.sessions_ended": EventType(1, SessionsEnded, "A member's sessions were ended"),
    "role.created": EventType(1, RoleCreated, "A custom role was created"),
    "role.updated": EventType(1, RoleUpdated, "A custom role was changed"),
    "role.deleted": EventType(1, RoleDeleted, "A custom role was deleted"),
    "api_token.issued": EventType(1, ApiTokenIssued, "An API token was issued"),
    "api_token.revoked": EventType(1, NoData, "An API token was revoked"),
    "device_token.issued": EventType(1, DeviceTokenIssued, "A driver's device token was issued"),
    "device_token.revoked": EventType(1, NoData, "A device token was revoked"),
    "pairing.created": EventType(1, PairingCreated, "A phone pairing code was made for a driver"),
    "pairing.revoked": EventType(1, PairingRevoked, "A pairing code was revoked"),
    "site.created": EventType(1, SiteCreated, "A site was created"),
    "site.updated": EventType(1, NoData, "A site was changed"),
    "site.dock_added": EventType(1, DockAdded, "A dock was added to a site"),
    "site.calendar_set": EventType(1, NoData, "A site's slot calendar was set"),
    "vehicle.added": EventType(1, VehicleAdded, "A vehicle was added to the fleet"),
    "vehicle.updated": EventType(1, NoData, "A vehicle was changed"),
    "driver.added": EventType(1, NoData, "A driver joined the fleet"),
    "job.posted": EventType(1, JobPosted, "A job was posted"),
    "job.cancelled": EventType(1, NoData, "A job was cancelled"),
    "job.expired": EventType(1, NoData, "A job expired unawarded"),
    "job.awarded": EventType(1, JobAwarded, "A carrier won the job"),
    "job.dispatched": EventType(1, NoData, "Every load of the job has a truck and driver"),
    "job.completed": EventType(1, NoData, "Every load of the job was received"),
    "tender.offered": EventType(1, TenderOffered, "The job was offered to one carrier of its tender"),
    "tender.accepted": EventType(1, TenderAnswered, "The carrier accepted the offer: the job is awarded"),
    "tender.declined": EventType(1, TenderDeclined, "The carrier declined the tender offer"),
    "tender.timed_out": EventType(1, TenderAnswered, "The tender offer's window passed unanswered"),
    "tender.exhausted": EventType(1, TenderExhausted, "No carrier took the tender: market or expiry"),
    "job.given_back": EventType(1, AwardWithdrawn, "The carrier gave the awarded job back"),
    "job.award_cancelled": EventType(1, AwardWithdrawn, "The poster cancelled the job's award"),
    "job.retendered": EventType(1, JobRetendered, "The poster re-tendered a job whose award was withdrawn"),
    "bid.placed": EventType(1, BidChanged, "A carrier bid"),
    "bid.lowered": EventType(1, BidChanged, "A carrier lowered its bid"),
    "bid.withdrawn": EventType(1, BidWithdrawn, "A carrier withdrew its bid"),
    "bid.lost": EventType(1, NoData, "The carrier's bid lost (subject: the job)"),
    "authorization.issued": EventType(1, AuthorizationIssued, "The goods owner authorized pickup"),
    "authorization.revoked": EventType(1, AuthorizationRevoked, "The pickup authorization was revoked"),
    "plan.proposed": EventType(1, PlanSaved, "The carrier's loads plan was computed"),
    "plan.edited": EventType(1, PlanSaved, "The carrier edited its loads plan"),
    "loads.confirmed": EventType(1, LoadsConfirmed, "The plan became loads"),
    "load.assigned": EventType(1, LoadAssigned, "A truck and driver were assigned to a load"),
    "load.reassigned": EventType(
        1, LoadReassigned, "The load's truck or driver was swapped (approval: the goods owner's, if needed)"
    ),
    "load.swap_refused": EventType(
        1, LoadSwapRefused, "The goods owner refused the load's swapped truck or driver"
    ),
    "share_link.created": EventType(1, ShareLinkCreated, "A tracking share link was made"),
    "share_link.revoked": EventType(1, ShareLinkRevoked, "A tracking share link was revoked"),
    "booking.created": EventType(1, Slot, "A pickup slot was booked"),
    "booking.moved": EventType(1, Slot, "A booking moved to another slot"),
    "booking.cancelled": EventType(1, NoData, "A booking was cancelled"),
    "booking.no_show": EventType(1, Slot, "The truck did not come: the slot was released"),
    "load.checked_in": EventType(1, CheckedIn, "The truck checked in at the gate"),
    "load.loading": EventType(1, NoData, "Loading started at the dock"),
    "load.loaded": EventType(1, NoData, "Loading is complete (links: the waybill)"),
    "load.departed": EventType(1, NoData, "The loaded truck left: the trip started"),
    "driver.messaged": EventType(1, DriverMessaged, "The dispatcher messaged the driver"),
    "evidence.recorded": EventType(1, EvidenceRecorded, "A record was added to the load's evidence chain"),
    "load.left_origin": EventType(1, TripPosition, "The truck left the origin's geofence"),
    "load.arrived": EventType(1, TripPosition, "The truck entered the destination's geofence"),
    "load.stopped": EventType(1, TripStopped, "The truck stood still away from the sites"),
    "load.moving": EventType(1, TripMoving, "The truck moves again after a stop"),
    "load.late_for_slot": EventType(1, LateForSlot, "The truck will be late for its booked pickup slot"),
    "load.late_delivery": EventType(1, LateDelivery, "The truck will deliver after the job's deliver-by"),
    "load.off_route": EventType(1, OffRoute, "The truck left the corridor around its expected route"),
    "load.back_on_route": EventType(1, BackOnRoute, "The truck is back in its route's corridor"),
    "load.received": EventType(1, LoadReceived, "The consignee confirmed receipt (links: proof of delivery)"),
    "webhook.test": EventType(1, WebhookTest, "A test event asked for one webhook endpoint"),
    "webhook.endpoint_disabled": EventType(
        1, WebhookEndpointDisabled, "A webhook endpoint was disabled: a delivery ran out of retries"
    ),
}


def version_of(event_type: str) -> int:
    known = SCHEMAS.get(event_type)
    return 1 if known is None else known.version
