"""The documents' renderer on its own (pure: facts in, PDF out): the cases the API test does not play,
a bulk load under a revoked authorization and a receipt without a drawn signature, in Chinese."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from pypdf import PdfReader

from dispatch.documents import render
from dispatch.documents.models import Authorized, CargoLine, Place, ProofOfDelivery, Waybill, Weighing

AT = datetime(2026, 3, 4, 1, 30, tzinfo=UTC)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def bulk_waybill() -> Waybill:
    return Waybill(
        load_id=uuid4(),
        number="TS-2026-118/3",
        status="in_transit",
        locale="zh-CN",
        timezone="Asia/Shanghai",
        issued_at=AT,
        shipper="唐山钢城钢铁",
        consignee=None,
        carrier="冀东联运物流",
        origin=Place("开平厂区", "河北省唐山市开平区钢城路8号"),
        destination=Place("", "天津市滨海新区新港二号路12号"),
        cargo=[CargoLine("铁矿粉", None, 31_500)],
        weight_kg=31_500,
        volume_m3=14.2,
        plate="冀B·06218D",
        vehicle_type="tipper",
        driver_name="李强",
        driver_phone="+86 138 0000 0000",
        driver_licence="130203199001011234",
        pickup_from=AT,
        pickup_until=AT + timedelta(hours=8),
        deliver_by=AT + timedelta(days=1),
        authorization=Authorized(
            by_org="唐山钢城钢铁",
            by_person="张敏",
            valid_from=AT - timedelta(hours=12),
            valid_until=AT + timedelta(hours=20),
            revoked_at=AT + timedelta(hours=2),
        ),
        pickup_code=None,
        code_note="documents.code.not_live",
        weighing=Weighing(
            tare_kg=15_020, gross_kg=46_480, net_kg=31_460, weighbridge_id="唐钢1号磅", ticket="B-0042"
        ),
        seals=["TS-88812"],
    )


def test_a_bulk_waybill_under_a_revoked_authorization_in_chinese() -> None:
    text = text_of(render.waybill(bulk_waybill()))
    for expected in (
        "运单",
        "TS-2026-118/3",
        "铁矿粉",
        "31,500 千克",
        "14.2 立方米",
        "冀B·06218D",
        "李强",
        "唐山钢城钢铁，张敏",
        "已于 2026年3月4日 11:30:00 撤销",  # 01:30 UTC + 2 h, in China time
        "当前无有效提货码",
        "31,460 千克",
        "唐钢1号磅 · 磅单号 B-0042",
        "TS-88812",
        "天津市滨海新区新港二号路12号",
    ):
        assert expected in text, expected


def test_a_receipt_without_a_drawn_signature_says_so() -> None:
    pod = ProofOfDelivery(
        waybill=bulk_waybill(),
        received_at=AT + timedelta(hours=5),
        signer_name="赵磊",
        signature_png=None,
        signature_sha256=None,
        signature_note="documents.pod.no_signature",
        condition="good",
        received_weight_kg=31_520,
        loaded_net_kg=31_460,
        loaded_net_source="weighbridge",
        discrepancy_kg=60,
        discrepancy_pct=0.19,
        lines=[],
        discrepancies=[("overage", "我方地磅多60千克")],
        notes=None,
        override_reason="围栏数据过旧，司机在厂内",
        inside_geofence=False,
        evidence_seq=7,
        evidence_hash="ab" * 32,
    )
    pdf = render.proof_of_delivery(pod)
    text = text_of(pdf)
    for expected in (
        "签收回单",
        "+60 千克（0.19%）",
        "完好",
        "多出",
        "我方地磅多60千克",
        "在目的地围栏外确认：围栏数据过旧，司机在厂内",
        "赵磊",
        "无手写签名。",
        "第 7 条",
        "ab" * 32,
    ):
        assert expected in text, expected
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 0
