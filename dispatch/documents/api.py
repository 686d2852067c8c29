"""Documents HTTP API: a load's waybill and proof of delivery as PDFs, for the parties of its job."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from dispatch.deps import Caller, RuntimeDep
from dispatch.documents import service
from dispatch.openapi import problem_spec

PDF = "application/pdf"


def pdf_response(content: bytes, name: str) -> Response[bytes]:
    return Response(
        content,
        media_type=PDF,
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            # A party's paper (the pickup code is on some): never in a shared cache; and the waybill
            # changes as the load moves, so a browser asks again rather than showing an old one.
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )


def pdf_spec(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=bytes, media_type=PDF, description=description, generate_examples=False
    )


class DocumentsController(Controller):
    path = "/loads/{load_id:uuid}/documents"
    tags = ["documents"]

    @get(
        "/waybill.pdf",
        operation_id="getWaybillPdf",
        summary="The load's waybill (PDF): parties, sites, cargo, truck, driver, authorization, pickup "
        "code as QR (carrier and goods owner only), weighbridge and seals once loaded",
        media_type=PDF,
        responses={200: pdf_spec("The waybill, one A4 PDF in the caller's language")},
    )
    async def waybill(
        self, load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller, request: Request[Any, Any, Any]
    ) -> Response[bytes]:
        content = await service.waybill_pdf(
            runtime.db, runtime.settings.secret_key, p, load_id, request.headers.get("accept-language")
        )
        return pdf_response(content, f"waybill-{load_id}.pdf")

    @get(
        "/proof-of-delivery.pdf",
        operation_id="getProofOfDeliveryPdf",
        summary="The load's proof of delivery (PDF): the receipt and its discrepancy, the signer and the "
        "drawn signature, the evidence chain's head; 409 document_not_ready before the receipt",
        media_type=PDF,
        responses={
            200: pdf_spec("The proof of delivery, a PDF in the caller's language"),
            409: problem_spec(409),
        },
    )
    async def proof_of_delivery(
        self, load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller, request: Request[Any, Any, Any]
    ) -> Response[bytes]:
        content = await service.proof_of_delivery_pdf(
            runtime.db,
            runtime.settings.state_path,
            runtime.settings.secret_key,
            p,
            load_id,
            request.headers.get("accept-language"),
        )
        return pdf_response(content, f"proof-of-delivery-{load_id}.pdf")
