"""Every event type the code records has a documented data schema (dispatch/events/schemas.py).

The source is read like grep would, but with Python's own parser: each `events.record(conn, TYPE, …)`
(or `events.pending(TYPE, …)`, an event a statement writes with its change)
call's TYPE is a string, a choice of two strings, or built at run time. The run-time ones are listed
here with the types they can make, each checked against the code that makes them, so a new call
site, or a new value at a dynamic one, fails this test until its type has a schema."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import msgspec

from dispatch.app import create_app
from dispatch.event_api.openapi import TYPED_EVENTS
from dispatch.events.schemas import SCHEMAS, Data
from dispatch.events.wire import EventOut
from dispatch.gate.service import _NEXT as GATE_STEPS
from dispatch.settings import Settings

ROOT = Path(__file__).resolve().parents[2] / "dispatch"

# (module, function) of each call whose type is computed -> the types it can record.
DYNAMIC = {
    # (the one-statement move, ADVANCE_AT_OWN_SITE, writes the same types in SQL: test_gate_advance.py)
    ("gate/service.py", "_advance_step_by_step"): {f"load.{to}" for to in GATE_STEPS},
    ("accounts/service.py", "_revoke"): {"api_token.revoked", "device_token.revoked"},
    ("tracking/share_links.py", "_record"): {"share_link.created", "share_link.revoked"},
    ("market/service.py", "_bid_changed"): {"bid.placed", "bid.lowered", "bid.withdrawn"},
    ("tracking/ingest.py", "_record_events"): {
        "load.left_origin",
        "load.arrived",
        "load.stopped",
        "load.moving",
        "load.late_delivery",
        "load.off_route",
        "load.back_on_route",
    },
}
# The helpers that pass their string argument on as the type, and the dataclass of trip events.
TYPE_CARRIERS = {"_record": 2, "_bid_changed": 1, "TripEvent": 0}


def _calls() -> Iterator[tuple[str, str, ast.Call]]:
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Call):
                    yield str(path.relative_to(ROOT)), func.name, node


def _is_record(call: ast.Call) -> bool:
    f = call.func
    return isinstance(f, ast.Attribute) and f.attr == "record" and ast.unparse(f.value) == "events"


def _is_pending(call: ast.Call) -> bool:
    """`events.pending(TYPE, …)`: an event a statement writes with its change (the type comes first)."""
    f = call.func
    return isinstance(f, ast.Attribute) and f.attr == "pending" and ast.unparse(f.value) == "events"


def _strings(node: ast.expr) -> set[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body), _strings(node.orelse)
        return None if body is None or orelse is None else body | orelse
    return None


def _recorded_types() -> tuple[set[str], set[tuple[str, str]]]:
    types: set[str] = set()
    dynamic: set[tuple[str, str]] = set()
    for module, function, call in _calls():
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        if _is_record(call) or _is_pending(call):
            found = _strings(call.args[1 if _is_record(call) else 0])
            if found is None:
                dynamic.add((module, function))
                types |= DYNAMIC.get((module, function), set())
            else:
                types |= found
        elif name in TYPE_CARRIERS and len(call.args) > TYPE_CARRIERS[name]:
            types |= _strings(call.args[TYPE_CARRIERS[name]]) or set()
    return types, dynamic


def test_every_recorded_event_type_has_a_schema():
    types, dynamic = _recorded_types()
    assert dynamic == set(DYNAMIC), "a call records a computed type: list what it can make in DYNAMIC"
    assert len(types) > 50
    assert sorted(types - set(SCHEMAS)) == [], "event types recorded without a schema"
    assert sorted(set(SCHEMAS) - types) == [], "schemas of types nothing records"


def test_the_dynamic_lists_match_the_code_that_makes_them():
    helpers = {"_record": set(), "_bid_changed": set(), "TripEvent": set()}
    for _, _, call in _calls():
        name = getattr(call.func, "id", "")
        if name in TYPE_CARRIERS and len(call.args) > TYPE_CARRIERS[name]:
            helpers[name] |= _strings(call.args[TYPE_CARRIERS[name]]) or set()
    assert helpers["_record"] == DYNAMIC[("tracking/share_links.py", "_record")]
    assert helpers["_bid_changed"] == DYNAMIC[("market/service.py", "_bid_changed")]
    assert helpers["TripEvent"] == DYNAMIC[("tracking/ingest.py", "_record_events")]
    revoke_kinds = {
        call.args[3].value
        for module, _, call in _calls()
        if module == "accounts/service.py"
        and getattr(call.func, "id", "") == "_revoke"
        and isinstance(call.args[3], ast.Constant)
    }
    assert {f"{k}.revoked" for k in revoke_kinds} == DYNAMIC[("accounts/service.py", "_revoke")]


def test_every_schema_is_a_data_struct_with_a_typed_event_in_the_document():
    for event_type, known in SCHEMAS.items():
        assert issubclass(known.data, Data) and known.version >= 1 and known.summary, event_type
    assert set(TYPED_EVENTS) == set(SCHEMAS)


def test_the_openapi_document_gives_each_type_its_schema_discriminated_by_type():
    app = create_app(Settings(database_url="postgresql://unused/none", secret_key="k" * 40))
    doc = app.openapi_schema.to_schema()
    components = doc["components"]["schemas"]
    page = doc["paths"]["/events"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/EventPage"}
    items = components["EventPage"]["properties"]["items"]["items"]
    mapping = items["discriminator"]["mapping"]
    assert items["discriminator"]["propertyName"] == "type"
    assert set(mapping) == set(SCHEMAS)
    assert sorted(mapping.values()) == sorted(ref["$ref"] for ref in items["oneOf"])
    for event_type, ref in mapping.items():
        event = components[ref.rsplit("/", 1)[1]]
        assert set(event["properties"]) == {f.encode_name for f in msgspec.structs.fields(EventOut)}
        assert event["properties"]["type"]["const"] == event_type
        assert event["properties"]["version"]["const"] == SCHEMAS[event_type].version
        data = components[event["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
        fields = msgspec.structs.fields(SCHEMAS[event_type].data)
        assert set(data.get("properties", {})) == {f.encode_name for f in fields}, event_type
