"""What a demo scenario is made of: data only, no behaviour.

The parties (organizations, the people the demo adds, the sites with address, location, geofence,
time zone, opening hours and docks), the carriers' fleets and drivers, the cargo and its prices,
the road between the sites, and the language the story is told in by default. `dispatch demo`
plays the same flow on any scenario (dispatch/sim/demo.py); `--scenario` picks one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dispatch.i18n import LocaleName
from dispatch.sim.geography import Road
from geo import Position


@dataclass(frozen=True)
class Address:
    """A site's address as parts in its country's order (China: province, city, district, street,
    number; Europe: street, number, postcode, city) and as the one line the sites API takes today.
    The parts are kept for the structured address (issue 18, item 4); `line` is what is sent."""

    country: str  # ISO 3166-1 alpha-2
    line: str
    parts: tuple[tuple[str, str], ...]  # (part name, text), in the country's order


# (weekday 0 = Monday, opens, closes), local time: steel works and ports never close.
AROUND_THE_CLOCK: tuple[tuple[int, str, str], ...] = tuple((day, "00:00", "24:00") for day in range(7))


@dataclass(frozen=True)
class Site:
    name: str
    address: Address
    location: Position  # WGS-84, as a phone reports it
    geofence: dict[str, Any]  # a GeoJSON polygon around the location
    timezone: str  # IANA
    docks: tuple[str, ...]  # dock names, in the site's language
    # (weekday 0 = Monday, opens, closes), local time; the demo moves the works' opening on the day
    # of its first slot to that slot, so the slots are bookable within a minute of the play.
    opening_hours: tuple[tuple[int, str, str], ...]
    shared: bool = False  # other organizations may deliver there (the buyer's yard)


@dataclass(frozen=True)
class Organization:
    name: str
    parties: tuple[str, ...]  # shipper, consignee, carrier
    admin_email: str


@dataclass(frozen=True)
class Person:
    """A member the demo adds to an organization, with one built-in role."""

    name: str
    email: str
    role: str


@dataclass(frozen=True)
class Truck:
    plate: str  # as written on the vehicle
    capacity_kg: int


@dataclass(frozen=True)
class Carrier:
    organization: Organization  # its admin is the dispatcher who bids and plans
    trucks: tuple[Truck, ...]
    cost_floor_minor: int  # the carrier never bids below its own cost
    driver_domain: str  # driver logins are driver<n>@<driver_domain>


@dataclass(frozen=True)
class Drivers:
    """The people driving the trucks (the n-th truck of every carrier gets the n-th name), and what
    their driver records carry."""

    names: tuple[str, ...]
    phone: str
    licence_prefix: str  # a made-up licence number: this prefix and random digits
    licence_digits: int


@dataclass(frozen=True)
class Cargo:
    description: str  # the job's cargo line, in the shipper's language
    coils: int
    coil_kg: int
    coil_m3: float
    notes: str  # the job's loading notes
    reference: str  # the order the auction is for
    ceiling_minor: int  # the auction's ceiling for the whole order
    # Three more offers left open on the job board after the play: (reference, coils, price).
    open_offers: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class Paperwork:
    """What the gate staff and the buyer's clerk write on their forms, in their language."""

    photo_caption: str  # {items}: the coils on the truck
    weighbridge_id: str
    seal_prefix: str
    sample_description: str
    shortage_note: str  # {coils}: how many are missing
    receipt_note: str


@dataclass(frozen=True)
class CountrySettings:
    """The organizations' settings and the logins' language (PATCH /orgs/{id}, PATCH /me)."""

    country: str  # ISO 3166-1 alpha-2
    currency: str  # ISO 4217
    timezone: str  # IANA
    locale: LocaleName


@dataclass(frozen=True)
class Scenario:
    name: str
    language: LocaleName  # the narration's language unless --locale says otherwise
    currency: str  # ISO 4217; prices are in its minor units
    mill: Organization  # the seller: posts the job, loads at its works
    buyer: Organization  # the consignee: authorizes the carrier, receives
    seller: Person  # the mill's sales desk, watches the job
    gate_staff: Person  # calls, verifies and loads at the docks
    clerk: Person  # the buyer's receiving clerk: watches, counts, signs
    carriers: tuple[Carrier, ...]
    drivers: Drivers
    carrier_area: tuple[str, float]  # the area (name, radius km around the works) carriers follow
    works: Site
    yard: Site
    road: Road  # the works' gate to the yard, WGS-84
    # Place names the narration uses for the trip, per language.
    origin: Mapping[LocaleName, str]
    destination: Mapping[LocaleName, str]
    cargo: Cargo
    paperwork: Paperwork
    # Set through the API for the scenario's organizations and logins; None keeps the service's
    # defaults (the default scenario, as it always played).
    settings: CountrySettings | None = None

    @property
    def organizations(self) -> list[Organization]:
        """Every organization, as the operator bootstraps them: the mill, the buyer, the carriers."""
        return [self.mill, self.buyer, *(c.organization for c in self.carriers)]
