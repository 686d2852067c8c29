"""The default scenario, as the demo has always played it: Donau Stahl (Linz) sells 120 t of
hot-rolled coil to Wiener Metallbau (Vienna's port), 168 km by the A1; three Austrian carriers bid
in EUR; the story is told in English."""

from __future__ import annotations

from dispatch.sim.geography import A1, MILL, TIMEZONE, YARD, square
from dispatch.sim.scenarios.shape import (
    AROUND_THE_CLOCK,
    Address,
    Cargo,
    Carrier,
    Drivers,
    Organization,
    Paperwork,
    Person,
    Scenario,
    Site,
    Truck,
)

AT = Scenario(
    name="at",
    language="en",
    currency="EUR",
    mill=Organization("Donau Stahl AG", ("shipper",), "admin@donaustahl.demo"),
    buyer=Organization("Wiener Metallbau GmbH", ("consignee",), "admin@wienermetall.demo"),
    seller=Person("Eva Berger", "sales@donaustahl.demo", "shipper"),
    gate_staff=Person("Franz Huber", "gate@donaustahl.demo", "gate_staff"),
    clerk=Person("Jana Novak", "receiving@wienermetall.demo", "buyer"),
    carriers=(
        Carrier(
            Organization("Donau Trans GmbH", ("carrier",), "dispatch@donautrans.demo"),
            (
                Truck("L-DT 101", 25_000),
                Truck("L-DT 102", 25_000),
                Truck("L-DT 103", 25_000),
                Truck("L-DT 201", 27_000),
                Truck("L-DT 202", 27_000),
            ),
            cost_floor_minor=335_000,
            driver_domain="donau0.demo",
        ),
        Carrier(
            Organization("Alpen Logistik KG", ("carrier",), "dispatch@alpenlogistik.demo"),
            tuple(Truck(f"S-AL {n}", 24_000) for n in range(11, 17)),
            cost_floor_minor=350_000,
            driver_domain="alpen1.demo",
        ),
        Carrier(
            Organization("Wachau Cargo", ("carrier",), "dispatch@wachaucargo.demo"),
            (
                Truck("KR-WC 7", 26_000),
                Truck("KR-WC 8", 26_000),
                Truck("KR-WC 9", 26_000),
                Truck("KR-WC 10", 24_000),
                Truck("KR-WC 11", 24_000),
            ),
            cost_floor_minor=340_000,
            driver_domain="wachau2.demo",
        ),
    ),
    drivers=Drivers(
        names=("Anna Gruber", "Lukas Wagner", "Maria Bauer", "Tobias Pichler", "Sophie Moser", "David Hofer"),
        phone="+43 660 0000000",
        licence_prefix="AT",
        licence_digits=7,
    ),
    carrier_area=("Upper Austria", 120),
    works=Site(
        name="Donau Stahl Linz works, gate 3",
        address=Address(
            "AT",
            "Turmstrasse 44, 4020 Linz",
            (("street", "Turmstrasse"), ("number", "44"), ("postcode", "4020"), ("city", "Linz")),
        ),
        location=MILL,
        geofence=square(MILL),
        timezone=TIMEZONE,
        docks=("Dock 1", "Dock 2", "Dock 3"),
        opening_hours=AROUND_THE_CLOCK,
    ),
    yard=Site(
        name="Wiener Metallbau, Albern port yard",
        address=Address(
            "AT",
            "Hafenstrasse 2, 1110 Wien",
            (("street", "Hafenstrasse"), ("number", "2"), ("postcode", "1110"), ("city", "Wien")),
        ),
        location=YARD,
        geofence=square(YARD),
        timezone=TIMEZONE,
        docks=("Dock 1", "Dock 2"),
        opening_hours=AROUND_THE_CLOCK,
        shared=True,
    ),
    road=A1,
    origin={"en": "Linz", "zh-CN": "林茨"},
    destination={"en": "Vienna", "zh-CN": "维也纳"},
    cargo=Cargo(
        description="hot-rolled steel coil, 1500 mm, S355",
        coils=48,
        coil_kg=2_500,  # 48 x 2.5 t = 120 t
        coil_m3=1.1,
        notes="Coils on cradles, chained; edge protectors required.",
        reference="PO-2026-4711",
        ceiling_minor=420_000,  # EUR 4,200 for the whole order
        open_offers=(
            ("PO-2026-4800", 10, 95_000),
            ("PO-2026-4801", 20, 180_000),
            ("PO-2026-4802", 8, 80_000),
        ),
    ),
    paperwork=Paperwork(
        photo_caption="{items} coils chained, edge protectors on",
        weighbridge_id="WB-2",
        seal_prefix="DS",
        sample_description="mill test certificate 3.1",
        shortage_note="{coils} coil(s) missing against the delivery note; seals intact",
        receipt_note="Reported to the carrier and the mill.",
    ),
)
