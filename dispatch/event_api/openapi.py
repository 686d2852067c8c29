"""The events' per-type schemas in the OpenAPI document.

On the wire `EventOut.data` is any object; the document says more: an event is `oneOf` one schema
per type (`Event.<type>` components: `type` and `version` fixed, `data` that type's schema from
dispatch/events/schemas.py), discriminated by `type`. The plugin stands in for `EventOut` wherever a
response names it, so the events API and the webhook documentation show the same shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Union

import msgspec
from litestar.openapi.spec import Discriminator, Reference
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

from dispatch.events.schemas import SCHEMAS
from dispatch.events.wire import EventOut

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema


def _typed_event(event_type: str) -> type[msgspec.Struct]:
    """`EventOut`'s fields (whatever they are), with `type`, `version` and `data` narrowed to one
    event type's."""
    known = SCHEMAS[event_type]
    narrowed: dict[str, Any] = {
        "type": Literal[event_type],
        "version": Literal[known.version],
        "data": known.data,
    }
    fields: list[Any] = []
    for f in msgspec.structs.fields(EventOut):
        kind = narrowed.get(f.name, f.type)
        if f.default_factory is not msgspec.NODEFAULT:
            fields.append((f.name, kind, msgspec.field(default_factory=f.default_factory)))
        elif f.default is not msgspec.NODEFAULT:
            fields.append((f.name, kind, f.default))
        else:
            fields.append((f.name, kind))
    return msgspec.defstruct("Event_" + event_type.replace(".", "_"), fields, kw_only=True, frozen=True)


TYPED_EVENTS: dict[str, type[msgspec.Struct]] = {t: _typed_event(t) for t in sorted(SCHEMAS)}


class _MappedWhenWritten(Discriminator):
    """A discriminator whose mapping names the components as the document finally calls them:
    Litestar shortens component names (and updates every `Reference`) after the plugins ran, so
    the mapping is read from the references when the document is written, not copied before."""

    def __init__(self, property_name: str, references: dict[str, Reference]) -> None:
        super().__init__(property_name=property_name)
        self._references = references

    def to_schema(self) -> dict[str, Any]:
        self.mapping = {value: ref.ref for value, ref in self._references.items()}
        return super().to_schema()


class EventSchemas(OpenAPISchemaPlugin):
    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is EventOut

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        union: Any = Union[tuple(TYPED_EVENTS.values())]  # noqa: UP007 (a union built at run time)
        schema: Schema = schema_creator.for_field_definition(FieldDefinition.from_annotation(union))  # type: ignore[assignment]
        references = {
            event_type: ref
            for event_type, ref in zip(TYPED_EVENTS, schema.one_of or [], strict=True)
            if isinstance(ref, Reference)
        }
        schema.discriminator = _MappedWhenWritten("type", references)
        schema.description = "An event; `data` follows its type's schema (docs/events.md)."
        return schema
