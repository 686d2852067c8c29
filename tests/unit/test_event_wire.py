"""The wire shape of an event: the schema's version, and links to the load's documents once they exist."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.events import Cursor, FeedEvent
from dispatch.events.wire import to_wire

LOAD = "0b8f6a2e-4f0e-4b7c-9a43-1c2d3e4f5a6b"


def _event(type_: str, subject_type: str = "load") -> FeedEvent:
    return FeedEvent(
        id=7,
        cursor=Cursor(41, 7),
        occurred_at=datetime(2026, 12, 7, tzinfo=UTC),
        type=type_,
        org_ids=[],
        subject_type=subject_type,
        subject_id=LOAD,
        actor_user_id=None,
        data={},
    )


def test_a_loaded_load_links_its_waybill_and_a_received_one_its_proof_of_delivery_too():
    waybill = f"/loads/{LOAD}/documents/waybill.pdf"
    pod = f"/loads/{LOAD}/documents/proof-of-delivery.pdf"
    assert to_wire(_event("load.assigned")).links == {}
    assert to_wire(_event("load.loading")).links == {}
    assert to_wire(_event("load.loaded")).links == {"waybill": waybill}
    assert to_wire(_event("load.arrived")).links == {"waybill": waybill}
    assert to_wire(_event("load.received")).links == {"waybill": waybill, "proof_of_delivery": pod}
    assert to_wire(_event("site.created", "site")).links == {}


def test_the_id_cursor_and_version_on_the_wire():
    out = to_wire(_event("load.received"))
    assert (out.id, out.cursor, out.version) == ("evt_7", "41.7", 1)
    assert to_wire(_event("load.received"), version=2).version == 2
