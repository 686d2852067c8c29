"""The documents: a load's waybill and proof of delivery as PDFs, parsed back as a reader would.

Text is extracted with pypdf (what a search or an ERP's import sees); the pickup code's QR code is
read from the page rendered to pixels by PDFium (pypdfium2) with zxing-cpp, as a phone's camera
would read the printed paper.
"""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any

import pypdfium2
import zxingcpp
from PIL import Image, ImageDraw
from pypdf import PdfReader

from tests.browser import SCREENSHOTS
from tests.integration.test_receipts import at_the_buyer
from tests.support import bootstrap_org, problem
from tests.tracking_support import depart, loads_in_transit

SITE_NAME = "唐山钢城钢铁 开平厂区"
SITE_ADDRESS = "河北省唐山市开平区钢城路8号"


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def page_image(pdf: bytes, scale: float = 3.0) -> Image.Image:
    document = pypdfium2.PdfDocument(pdf)
    try:
        image: Image.Image = document[0].render(scale=scale).to_pil()
        return image
    finally:
        document.close()


def qr_codes(pdf: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(page_image(pdf).convert("L"))]


def keep_page_picture(pdf: bytes, name: str) -> None:
    """Page 1 as docs/screenshots/<name>.png for the README when DISPATCH_SCREENSHOTS is set."""
    if os.environ.get("DISPATCH_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page_image(pdf, scale=1.6).save(SCREENSHOTS / f"{name}.png", optimize=True)


def drawn_signature() -> bytes:
    """A signature as the receipt form's canvas exports it: dark strokes on white, a PNG."""
    image = Image.new("RGB", (360, 120), "white")
    pen = ImageDraw.Draw(image)
    pen.line([(20, 80), (60, 30), (90, 90), (130, 35), (170, 85), (210, 40)], fill=(20, 20, 60), width=4)
    pen.line([(230, 70), (330, 60)], fill=(20, 20, 60), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def as_pdf(r: Any) -> bytes:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert "private" in r.headers["cache-control"]
    content: bytes = r.content
    assert content.startswith(b"%PDF-")
    return content


async def test_the_waybill_and_the_proof_of_delivery_follow_the_load(client, settings, db):
    w = await loads_in_transit(client, settings, depart_all=False)
    load, mill, carrier, buyer = w["loads"][0], w["mill"], w["carrier"], w["buyer"]
    r = await client.patch(
        f"/sites/{w['site']['id']}", headers=mill.headers, json={"name": SITE_NAME, "address": SITE_ADDRESS}
    )
    assert r.status_code == 200, r.text
    waybill = f"/loads/{load['id']}/documents/waybill.pdf"
    pod = f"/loads/{load['id']}/documents/proof-of-delivery.pdf"

    # The carrier's waybill: the parties, the Chinese pickup site, the truck, the driver, and the
    # load's pickup code, also as a QR code that reads back to it.
    pdf = as_pdf(await client.get(waybill, headers=carrier.headers))
    text = text_of(pdf)
    for expected in ("Waybill", "Mill", "Buyer", "Haulers", SITE_NAME, SITE_ADDRESS, "B-GT 100", "Driver 0"):
        assert expected in text, expected
    assert "coil" in text and "Not weighed yet." in text
    assert load["pickup_code"] in text
    assert qr_codes(pdf) == [load["pickup_code"]]
    keep_page_picture(pdf, "waybill")
    # The mill owns the goods at pickup (it authorized the carrier): it holds the code too.
    assert qr_codes(as_pdf(await client.get(waybill, headers=mill.headers))) == [load["pickup_code"]]
    # The buyer is a party but not the goods owner: its waybill has no code, and says why.
    pdf = as_pdf(await client.get(waybill, headers=buyer.headers))
    assert load["pickup_code"] not in text_of(pdf)
    assert "Shown only to the carrier and the goods owner." in text_of(pdf)
    assert qr_codes(pdf) == []
    # Anyone else: the load is not there, as on the load's other routes.
    outsider = await bootstrap_org(client, settings, "Elsewhere", ["shipper", "consignee", "carrier"])
    for url in (waybill, pod):
        problem(await client.get(url, headers=outsider.headers), 404, "load_not_found")
    problem(await client.get(f"/loads/{w['job']['id']}/documents/waybill.pdf", headers=mill.headers), 404)
    # No proof of delivery before the receipt.
    problem(await client.get(pod, headers=buyer.headers), 409, "document_not_ready")

    # Loaded: the weighbridge and the seals are on the waybill; the code has done its work.
    evidence = f"/loads/{load['id']}/evidence"
    for body in (
        {"kind": "weighbridge_tare", "weight_kg": 14_200, "weighbridge_id": "WB-1", "ticket": "T-88"},
        {"kind": "weighbridge_gross", "weight_kg": 38_210, "weighbridge_id": "WB-1"},  # net 24,010
        {"kind": "seal", "seal_numbers": ["S-1001", "S-1002"]},
    ):
        assert (await client.post(evidence, headers=w["staff"].headers, json=body)).status_code == 201
    await depart(client, w, load)
    pdf = as_pdf(await client.get(waybill, headers=carrier.headers))
    text = text_of(pdf)
    for expected in ("14,200 kg", "38,210 kg", "24,010 kg", "WB-1", "S-1001, S-1002", "in transit"):
        assert expected in text, expected
    assert load["pickup_code"] not in text and qr_codes(pdf) == []

    # The buyer signs for 60 kg less, with a drawn signature in the load's evidence.
    await at_the_buyer(client, db, load)
    signature = drawn_signature()
    r = await client.post(
        f"{evidence}/photos",
        headers=w["receiver"].headers,
        files={"file": ("signature.png", signature, "image/png")},
    )
    assert r.status_code == 201, r.text
    body = {
        "received": {"weight_kg": 23_950},
        "condition": "damaged",
        "discrepancies": [{"type": "shortage", "notes": "60 kg short on our weighbridge"}],
        "signer_name": "王建国",
        "signature": hashlib.sha256(signature).hexdigest(),
        "notes": "Unloaded at bay 4",
    }
    r = await client.post(f"/loads/{load['id']}/receipt", headers=w["receiver"].headers, json=body)
    assert r.status_code == 201, r.text
    receipt = r.json()

    pdf = as_pdf(await client.get(pod, headers=mill.headers))
    text = text_of(pdf)
    for expected in (
        "Proof of delivery",
        SITE_NAME,
        "B-GT 100",
        "23,950 kg",
        "24,010 kg",
        "-60 kg (-0.25 %)",
        "Damaged",
        "60 kg short on our weighbridge",
        "王建国",
        "Unloaded at bay 4",
        receipt["evidence_hash"],
        f"record {receipt['evidence_seq']} of the load's evidence chain",
    ):
        assert expected in text.replace("\n", " ") or expected in text, expected
    # One page, and the drawn signature is the picture on it, pixel for pixel.
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    pictures = reader.pages[0].images
    assert any(
        p.image.convert("RGB").tobytes() == Image.open(io.BytesIO(signature)).tobytes() for p in pictures
    )
    keep_page_picture(pdf, "proof-of-delivery")

    # A signature file altered in storage is not printed as if it were the one signed; the rest stands.
    (
        settings.state_path / "evidence" / "photos" / receipt["signature"][:2] / receipt["signature"]
    ).write_bytes(drawn_signature() + b"tampered")
    pdf = as_pdf(await client.get(pod, headers=buyer.headers))
    assert "The signature's file is missing or altered" in text_of(pdf).replace("\n", " ")
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 0

    # In Chinese for a reader who asks for it; every party of the job may download it.
    zh = {**carrier.headers, "Accept-Language": "zh-CN"}
    text = text_of(as_pdf(await client.get(pod, headers=zh)))
    for expected in ("签收回单", "签收人", "王建国", "净重", SITE_NAME, "23,950 千克"):
        assert expected in text, expected
    pdf = as_pdf(await client.get(waybill, headers=zh))
    text = text_of(pdf)
    for expected in ("运单", "净重", "24,010 千克", "铅封号", "S-1001", SITE_ADDRESS, "已签收"):
        assert expected in text, expected
    keep_page_picture(pdf, "waybill-zh-CN")
