"""Evidence HTTP API: gate staff record loading evidence; the job's parties read, verify and export it."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.handlers.base import BaseRouteHandler
from litestar.params import BodyKwarg, FromPath, JSONBody

from dispatch.accounts.auth import requires_any
from dispatch.accounts.permissions import Permission
from dispatch.deps import Caller, RuntimeDep
from dispatch.errors import problem_response
from dispatch.evidence import service
from dispatch.evidence.models import EvidenceBundle, EvidenceRecord, PhotoUpload, RecordIn, Verification
from dispatch.runtime import Runtime

# The upload route's own body limit, above the app's 1 MiB. It is a fixed ceiling because a route's
# limit is set when the class is defined, before any settings exist; the configured
# `max_photo_bytes` is enforced below it, twice: from Content-Length before anything is read (the
# guard below) and on the file's actual size while it is stored (the service). The ceiling only
# binds a body sent without Content-Length (chunked); DISPATCH_MAX_PHOTO_BYTES above it has no effect.
PHOTO_REQUEST_CEILING = 64 << 20
# Room for the multipart framing and the small fields (caption, lat, lon) around the file.
FORM_OVERHEAD_BYTES = 16 << 10

PhotoForm = Annotated[
    PhotoUpload, BodyKwarg(media_type=RequestEncodingType.MULTI_PART, multipart_form_part_limit=8)
]


async def _photo_size_precheck(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Refuse an announced body that cannot hold an acceptable photo, before reading any of it."""
    runtime: Runtime = connection.app.state.runtime
    limit = runtime.settings.max_photo_bytes
    announced = connection.headers.get("content-length")
    if announced and announced.isdigit() and int(announced) > limit + FORM_OVERHEAD_BYTES:
        raise service.photo_too_large(limit)


def _body_too_large(request: Request[Any, Any, Any], _: RequestEntityTooLarge) -> Response[dict[str, Any]]:
    runtime: Runtime = request.app.state.runtime
    limit = min(runtime.settings.max_photo_bytes, PHOTO_REQUEST_CEILING - FORM_OVERHEAD_BYTES)
    return problem_response(
        413,
        "photo_too_large",
        f"A photo may have at most {limit:,} bytes.",
        {"max_bytes": limit},
        params={"max_bytes": limit},
    )


class EvidenceController(Controller):
    path = "/"
    tags = ["evidence"]

    @post(
        "/loads/{load_id:uuid}/evidence",
        operation_id="recordEvidence",
        guards=[requires_any(Permission.RECORD_EVIDENCE, Permission.CONFIRM_RECEIPT)],
        summary="Append a weighing, seal, sample or note to the load's evidence (the shipper's gate staff)",
    )
    async def record(
        self, load_id: FromPath[UUID], data: JSONBody[RecordIn], runtime: RuntimeDep, p: Caller
    ) -> EvidenceRecord:
        return await service.record(runtime.db, p, load_id, data)

    @post(
        "/loads/{load_id:uuid}/evidence/photos",
        operation_id="uploadEvidencePhoto",
        guards=[requires_any(Permission.RECORD_EVIDENCE, Permission.CONFIRM_RECEIPT), _photo_size_precheck],
        request_max_body_size=PHOTO_REQUEST_CEILING,
        exception_handlers={RequestEntityTooLarge: _body_too_large},
        summary="Upload a loading photo (JPEG, PNG, WebP, HEIC; multipart field `file`) into the evidence",
    )
    async def upload_photo(
        self, load_id: FromPath[UUID], data: PhotoForm, runtime: RuntimeDep, p: Caller
    ) -> EvidenceRecord:
        try:
            return await service.record_photo(runtime.db, runtime.settings, p, load_id, data)
        finally:
            await data.file.close()

    @get(
        "/loads/{load_id:uuid}/evidence",
        operation_id="listEvidence",
        summary="The load's evidence records in order, for the job's parties",
    )
    async def list_records(
        self, load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
    ) -> list[EvidenceRecord]:
        return await service.list_records(runtime.db, p, load_id)

    @get(
        "/loads/{load_id:uuid}/evidence/verify",
        operation_id="verifyEvidence",
        summary="Recompute the load's hash chain and check its photo files; names the first break",
    )
    async def verify(self, load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Verification:
        return await service.verify(runtime.db, runtime.settings.state_path, p, load_id)

    @get(
        "/loads/{load_id:uuid}/evidence/export",
        operation_id="exportEvidence",
        summary="The load's evidence as one bundle with its hashes, photo list and verification",
    )
    async def export(self, load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> EvidenceBundle:
        return await service.export(runtime.db, runtime.settings.state_path, p, load_id)

    @get(
        "/evidence/photos/{sha256:str}",
        operation_id="getEvidencePhoto",
        summary="A photo by its sha256, for the parties of a job whose load evidence names it",
        media_type="application/octet-stream",
    )
    async def photo(self, sha256: FromPath[str], runtime: RuntimeDep, p: Caller) -> Response[bytes]:
        content, content_type = await service.photo(runtime.db, runtime.settings.state_path, p, sha256)
        return Response(
            content,
            media_type=content_type,
            headers={
                # Content-addressed: the bytes under this URL never change.
                "Cache-Control": "private, max-age=31536000, immutable",
                "ETag": f'"{sha256.lower()}"',
                "X-Content-Type-Options": "nosniff",
            },
        )
