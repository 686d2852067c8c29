"""The OpenAPI document (/schema/openapi.json), made to describe what the server really answers.

Litestar documents each route's success answer, parameters and request body from its types. Two
things it cannot know, added here in one place so that they stay true as routes come and go:

- **Problem answers.** Every error is `application/problem+json` (dispatch/errors.py), one schema
  component, `ProblemDetails`. Which statuses a route can give follows from what kind of route it
  is, so `problem_responses` derives them from the route itself rather than from a list kept by
  hand beside each decorator (`ProblemResponses` applies it as Litestar registers each route):

  | status | on |
  |---|---|
  | 400 | routes with parameters or a body (validation, malformed JSON) |
  | 401, 403 | routes behind the bearer middleware (token, credential kind, permissions) |
  | 404 | routes with ids in their path, and authenticated routes with a body (it names other things by id) |
  | 409, 422 | authenticated writes (POST, PUT, PATCH, DELETE): state conflicts, business rules, idempotency |
  | 413, 415 | routes with a body |
  | 401, 429 | the login (wrong credentials, throttling) |
  | 400, 426 | routes with the `X-App-Version` header (the driver API): malformed, or an app too old |
  | 503 | every route: the database may be away |

  Rules that over-approximate (a write that can never conflict is documented with 409) keep a
  generated client correct; a missing status would not. The schemathesis run
  (tests/integration/test_openapi_conformance.py) fails on any status a route gives that is not
  documented.
- **Closed request bodies.** Request Structs forbid unknown fields (`dispatch.types.Input`):
  `ClosedStructSchemas` gives their schemas `additionalProperties: false`.
- **Security.** Authenticated operations name the `bearer` scheme (sessions, API tokens and device
  tokens are all bearer tokens).
- **Retry-After.** The answers that carry it say so (`RETRY_AFTER`: 429 throttling, 503 the
  database away, 409 when an Idempotency-Key's first request is still in progress), so a generated
  client knows to wait rather than retry at once. Litestar's extra answers have no headers of
  their own, so every operation is made as `ProblemOperation`, which adds the header to those.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    SecurityScheme,
)
from litestar.openapi.spec import Schema as SchemaObject
from litestar.params import HeaderParameter
from litestar.plugins import OpenAPISchemaPlugin, ReceiveRoutePlugin
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from dispatch.errors import PROBLEM_MEDIA_TYPE
from dispatch.types import Instant

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.handlers import HTTPRouteHandler
    from litestar.openapi.spec import Schema
    from litestar.routes import BaseRoute

BEARER = "bearer"
# The header the driver app names its version in (driver_api/versions.py), on every driver route.
APP_VERSION_HEADER = "X-App-Version"
# Handler arguments Litestar fills from the connection itself: not parameters a client sends.
_RESERVED_KWARGS = frozenset(
    {"request", "socket", "state", "scope", "headers", "cookies", "query", "body", "data"}
)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class FieldError(msgspec.Struct, kw_only=True):
    field: str
    reason: str
    source: str


class ProblemDetails(msgspec.Struct, kw_only=True):
    """An RFC 9457 problem; codes and their extra members are listed in docs/errors.md."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | msgspec.UnsetType = msgspec.UNSET
    # Validation failures: one entry per field (`$` is the body, `$.a.b[0]` a path inside it).
    errors: list[FieldError] | msgspec.UnsetType = msgspec.UNSET


_DESCRIPTIONS = {
    400: "Validation failed, malformed body, or a bad request (see `code`)",
    401: "Missing, malformed, unknown, expired or revoked credentials",
    403: "Wrong credential kind, a missing permission, or not a party to this",
    404: "Not there, or not visible to the caller's organization",
    409: "The state does not allow it, or the Idempotency-Key's first request is still in progress",
    413: "The body is too large",
    415: "The body's media type is not accepted",
    422: "Well-formed, but breaks a business rule (see `code`)",
    426: "The app (X-App-Version) is older than the server serves: update it to `min_version`",
    429: "Too many attempts: wait for Retry-After",
    503: "The database is unavailable: retry after Retry-After",
}


# The problem answers that carry `Retry-After` (seconds), and when.
RETRY_AFTER = {
    409: "Present when the Idempotency-Key's first request is still in progress: retry it then",
    429: "Seconds to wait before the next attempt",
    503: "Seconds after which the same request may be sent again (nothing was changed)",
}


@dataclass
class ProblemOperation(Operation):
    """An operation whose 409, 429 and 503 answers document their `Retry-After` header (`RETRY_AFTER`;
    the health check's 503 carries it too)."""

    def __post_init__(self) -> None:
        for status, description in RETRY_AFTER.items():
            answer = (self.responses or {}).get(str(status))
            if isinstance(answer, OpenAPIResponse):
                answer.headers = (answer.headers or {}) | {
                    "Retry-After": OpenAPIHeader(
                        schema=SchemaObject(type=OpenAPIType.INTEGER, minimum=0),
                        description=description,
                    )
                }


def _problem(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=ProblemDetails,
        media_type=PROBLEM_MEDIA_TYPE,
        description=_DESCRIPTIONS[status],
        generate_examples=False,
    )


def problem_spec(status: int) -> ResponseSpec:
    """A problem answer to document on a route beyond what its kind implies (`responses=`)."""
    return _problem(status)


def problem_statuses(
    *,
    method: str,
    authenticated: bool,
    path_ids: bool,
    has_params: bool,
    has_body: bool,
    credentials: bool,
    app_version: bool = False,
) -> set[int]:
    """The problem statuses a route can answer, from what kind of route it is (the table above)."""
    statuses = {503}
    if app_version:
        statuses |= {400, 426}
    if has_params or has_body:
        statuses.add(400)
    if authenticated:
        statuses |= {401, 403}
        if method in WRITE_METHODS:
            statuses |= {409, 422}
    if path_ids or (authenticated and has_body):
        statuses.add(404)
    if has_body:
        statuses |= {413, 415}
    if credentials:
        statuses |= {401, 429}
    return statuses


class ProblemResponses(ReceiveRoutePlugin):
    """Sets each HTTP route handler's documented problem answers and security as it is registered.

    `public_paths` are the bearer middleware's exclusions (regexes); a handler with
    `opt={"exclude_from_auth": True}` is public too. `credential_routes` name the operation ids that
    take a password (the login): they answer 401 and 429 though they are public."""

    def __init__(self, public_paths: Iterable[str], credential_routes: Iterable[str]) -> None:
        self._public = [re.compile(p) for p in public_paths]
        self._credentials = frozenset(credential_routes)

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            self._describe(route, handler)

    def _describe(self, route: HTTPRoute, handler: HTTPRouteHandler) -> None:
        authenticated = not handler.opt.get("exclude_from_auth") and not any(
            p.search(route.path) for p in self._public
        )
        signature = handler.parsed_fn_signature.parameters
        has_body = "data" in signature
        dependencies = handler.resolve_dependencies()
        layered = handler.resolve_layered_parameters().values()
        has_params = (
            bool(route.path_parameters)
            or bool(layered)
            or any(name not in _RESERVED_KWARGS and name not in dependencies for name in signature)
        )
        app_version = any(
            isinstance(field.kwarg_definition, HeaderParameter)
            and field.kwarg_definition.name == APP_VERSION_HEADER
            for field in layered
        )
        documented = dict(handler.responses or {})
        for method in sorted(handler.http_methods):
            for status in problem_statuses(
                method=method,
                authenticated=authenticated,
                path_ids=bool(route.path_parameters),
                has_params=has_params,
                has_body=has_body,
                credentials=handler.operation_id in self._credentials,
                app_version=app_version,
            ):
                documented.setdefault(status, _problem(status))
        handler.responses = documented
        if handler.operation_class is Operation:
            handler.operation_class = ProblemOperation
        if authenticated and not handler.security:
            handler.security = [{BEARER: []}]


class ClosedStructSchemas(OpenAPISchemaPlugin):
    """Structs with `forbid_unknown_fields` (every request body) get `additionalProperties: false`:
    the server refuses unknown fields, so the document says so. The schema itself is Litestar's own
    (the next plugin that handles Structs); only that one member is added."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        type_ = field_definition.annotation
        return (
            not field_definition.is_union
            and isinstance(type_, type)
            and issubclass(type_, msgspec.Struct)
            and type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        builtin = next(
            plugin
            for plugin in schema_creator.plugins
            if plugin is not self
            and isinstance(plugin, OpenAPISchemaPlugin)
            and plugin.is_plugin_supported_field(field_definition)
        )
        schema: Schema = builtin.to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        _restore_constraints(field_definition.annotation, schema)
        return schema


# msgspec's constraints and the OpenAPI keywords they become, by kind of value.
_NUMBER_BOUNDS = {"ge": "minimum", "gt": "exclusive_minimum", "le": "maximum", "lt": "exclusive_maximum"}
_STRING_BOUNDS = {"min_length": "min_length", "max_length": "max_length", "pattern": "pattern"}
_ARRAY_BOUNDS = {"min_length": "min_items", "max_length": "max_items"}


def _restore_constraints(struct: type[msgspec.Struct], schema: Schema) -> None:
    """Litestar 2.25 loses some of msgspec's constraints on the way to the document, so it allowed
    what the server refuses: a bound of 0 on an optional field (`Annotated[int, Meta(ge=0)] | None`
    came out with no minimum: it tests the value's truth), every constraint on list items
    (`list[Annotated[str, Meta(pattern=...)]]`), and a tuple's length. Put them back from msgspec's
    own view of the Struct, wherever the generated schema lacks them."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        prop = (schema.properties or {}).get(field.encode_name)
        _restore(field.type, prop)


def _restore(kind: msgspec.inspect.Type, schema: Any) -> None:
    if not isinstance(schema, SchemaObject):
        return  # a reference to another component: restored when that one is made
    inspect = msgspec.inspect
    if isinstance(kind, inspect.Metadata):
        _restore(kind.type, schema)
    elif isinstance(kind, inspect.UnionType):
        members = [m for m in kind.types if not isinstance(m, inspect.NoneType)]
        branches = [b for b in schema.one_of or [] if not (isinstance(b, SchemaObject) and b.type == "null")]
        if len(members) == len(branches):
            for member, branch in zip(members, branches, strict=True):
                _restore(member, branch)
        elif len(members) == 1 and not schema.one_of:
            _restore(members[0], schema)
    elif isinstance(kind, inspect.IntType | inspect.FloatType):
        _copy(kind, schema, _NUMBER_BOUNDS)
    elif isinstance(kind, inspect.StrType):
        _copy(kind, schema, _STRING_BOUNDS)
    elif isinstance(kind, inspect.ListType | inspect.SetType | inspect.FrozenSetType | inspect.VarTupleType):
        _copy(kind, schema, _ARRAY_BOUNDS)
        _restore(kind.item_type, schema.items)
    elif isinstance(kind, inspect.TupleType):
        size = len(kind.item_types)
        schema.min_items = schema.min_items if schema.min_items is not None else size
        schema.max_items = schema.max_items if schema.max_items is not None else size
        for item, item_schema in zip(kind.item_types, schema.prefix_items or [], strict=False):
            _restore(item, item_schema)


def _copy(kind: Any, schema: Any, keywords: dict[str, str]) -> None:
    for constraint, keyword in keywords.items():
        value = getattr(kind, constraint, None)
        if value is not None and getattr(schema, keyword) is None:
            setattr(schema, keyword, value)


class InstantSchema(OpenAPISchemaPlugin):
    """`dispatch.types.Instant` (a query parameter's date-time) is an RFC 3339 date-time string."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is Instant

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        return SchemaObject(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME)


def components() -> Components:
    return Components(
        security_schemes={
            BEARER: SecurityScheme(
                type="http",
                scheme="bearer",
                description=(
                    "A session token from POST /auth/login or an API token (platform API), or a device "
                    "token (driver API under /driver/v1)"
                ),
            )
        }
    )


def plugins(public_paths: Iterable[str], credential_routes: Iterable[str]) -> list[Any]:
    return [ProblemResponses(public_paths, credential_routes), ClosedStructSchemas(), InstantSchema()]
