"""The documents as PDF pages, drawn with fpdf2 (README.md: why fpdf2 and why this font).

Pure: the facts in (models.py), PDF bytes out; no database, no I/O but reading the vendored font.
Every text comes from the catalogue (`documents.*`) in the document's language; numbers and dates
are formatted by dispatch.i18n (Babel, CLDR), as on the pages.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from dispatch.documents.models import ProofOfDelivery, Waybill
from dispatch.i18n import LocaleName, date_time, number, translate

# WenQuanYi Micro Hei (Apache-2.0), one face: Chinese and Latin in one TrueType font (fonts/README.md).
FONT_FILE = Path(__file__).parent / "fonts" / "wqy-microhei.ttf"
FONT = "doc"

_INK = (30, 30, 30)
_MUTED = (95, 95, 95)
_RULE = (170, 170, 170)
_LABEL_W = 45.0


class _Page(FPDF):
    """An A4 page in the document's language with a footer naming the document and the load."""

    def __init__(self, locale: LocaleName, footer: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.locale: LocaleName = locale
        self._footer = footer
        self.set_margins(16, 14, 16)
        self.set_auto_page_break(auto=True, margin=16)
        self.add_font(FONT, "", str(FONT_FILE))
        self.set_lang(locale)
        self.set_creator("freight-dispatch")
        self.set_font(FONT, size=9.5)
        self.set_text_color(*_INK)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7.5)
        self.set_text_color(*_MUTED)
        self.cell(0, 5, f"{self._footer} · {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(*_INK)

    def t(self, key: str, **params: Any) -> str:
        return translate(self.locale, key, **params)

    def heading(self, title: str, subtitle: str) -> None:
        self.set_font(FONT, size=18)
        self.cell(0, 9, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=9)
        self.set_text_color(*_MUTED)
        self.multi_cell(0, 4.6, subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*_INK)
        self.set_font(FONT, size=9.5)
        self.ln(2)

    def section(self, title: str) -> None:
        self.ln(1.8)
        if self.will_page_break(18):
            self.add_page()
        self.set_font(FONT, size=11.5)
        self.cell(0, 6.5, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*_RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1.2)
        self.set_font(FONT, size=9.5)

    def field(self, label: str, value: str) -> None:
        """A label and its value on one line (the value wraps under itself)."""
        y = self.get_y()
        self.set_text_color(*_MUTED)
        self.multi_cell(_LABEL_W, 5, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.set_text_color(*_INK)
        self.multi_cell(0, 5, value or self.t("documents.none"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(max(self.get_y(), y + 5))

    def grid(
        self,
        headings: list[str],
        rows: Iterable[list[str]],
        widths: tuple[int, ...],
        *,
        numbers: bool = True,
    ) -> None:
        """A table with a heading row; with `numbers`, every column but the first is right-aligned."""
        self.set_draw_color(*_RULE)
        with super().table(
            col_widths=widths,
            first_row_as_headings=True,
            # One face only (the font has no bold): headings stand out by colour, not weight.
            headings_style=FontFace(emphasis="", color=_MUTED),
            line_height=5.2,
            text_align=tuple("RIGHT" if i and numbers else "LEFT" for i in range(len(widths))),
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            for row in [headings, *rows]:
                line = table.row()
                for text in row:
                    line.cell(text)

    def when(self, moment: datetime, zone: str) -> str:
        # CLDR puts a narrow no-break space before AM/PM, a glyph the font lacks.
        return date_time(self.locale, moment, zone).replace("\u202f", " ")

    def kg(self, value: float) -> str:
        return self.t("documents.kg", value=number(self.locale, round(value)))

    def signed_kg(self, value: float) -> str:
        text = self.kg(abs(value))
        return f"+{text}" if value > 0 else f"-{text}" if value < 0 else text


def _qr_png(code: str) -> io.BytesIO:
    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="png", scale=10, border=4)
    out.seek(0)
    return out


def _route(pdf: _Page, w: Waybill) -> None:
    pdf.section(pdf.t("documents.route"))
    pdf.field(pdf.t("documents.origin"), f"{w.origin.name}\n{w.origin.address}")
    destination = (
        f"{w.destination.name}\n{w.destination.address}" if w.destination.name else w.destination.address
    )
    pdf.field(pdf.t("documents.destination"), destination)
    window = pdf.t(
        "documents.window",
        start=pdf.when(w.pickup_from, w.timezone),
        end=pdf.when(w.pickup_until, w.timezone),
    )
    pdf.field(pdf.t("documents.pickup_window"), window)
    pdf.field(pdf.t("documents.deliver_by"), pdf.when(w.deliver_by, w.timezone))


def _header(pdf: _Page, w: Waybill, title: str) -> None:
    pdf.add_page()
    printed = pdf.t("documents.issued", when=pdf.when(w.issued_at, w.timezone), zone=w.timezone)
    pdf.heading(f"{title}  {w.number}", f"{pdf.t('documents.load_number')} {w.load_id} · {printed}")
    pdf.field(pdf.t("documents.status"), pdf.t(f"orders.load_state.{w.status}"))
    pdf.section(pdf.t("documents.parties"))
    parties = [pdf.t(f"documents.{k}") for k in ("shipper", "consignee", "carrier")]
    pdf.grid(
        parties, [[w.shipper, w.consignee or pdf.t("documents.none"), w.carrier]], (60, 60, 58), numbers=False
    )


def _cargo(pdf: _Page, w: Waybill) -> None:
    pdf.section(pdf.t("documents.cargo"))
    rows = [
        [
            line.description,
            "" if line.count is None else number(pdf.locale, line.count),
            pdf.kg(line.weight_kg),
        ]
        for line in w.cargo
    ]
    volume = pdf.t("common.unit.cubic_metres", value=number(pdf.locale, round(w.volume_m3, 2)))
    rows.append([pdf.t("documents.cargo.total"), volume, pdf.kg(w.weight_kg)])
    headings = [
        pdf.t(k)
        for k in ("documents.cargo.description", "documents.cargo.quantity", "documents.cargo.weight")
    ]
    pdf.grid(headings, rows, (90, 40, 48))


def _vehicle(pdf: _Page, w: Waybill, *, contact: bool = True) -> None:
    """The truck and its driver; with `contact`, the vehicle type and the driver's phone and licence."""
    pdf.section(pdf.t("documents.vehicle"))
    pdf.field(pdf.t("documents.plate"), w.plate)
    if contact:
        pdf.field(pdf.t("documents.vehicle_type"), w.vehicle_type)
    pdf.field(pdf.t("documents.driver"), w.driver_name or pdf.t("documents.not_assigned"))
    if w.driver_name and contact:
        pdf.field(pdf.t("documents.phone"), w.driver_phone or "")
        pdf.field(pdf.t("documents.licence"), w.driver_licence or "")


def _authorization(pdf: _Page, w: Waybill) -> None:
    pdf.section(pdf.t("documents.authorization"))
    a = w.authorization
    if a is None:
        pdf.field(pdf.t("documents.authorized_by"), pdf.t("documents.no_authorization"))
    else:
        by = (
            pdf.t("documents.authorized_person", org=a.by_org, person=a.by_person)
            if a.by_person
            else pdf.t("documents.authorized_automatic", org=a.by_org)
        )
        pdf.field(pdf.t("documents.authorized_by"), by)
        valid = pdf.t(
            "documents.window",
            start=pdf.when(a.valid_from, w.timezone),
            end=pdf.when(a.valid_until, w.timezone),
        )
        if a.revoked_at is not None:
            valid += "\n" + pdf.t("documents.revoked", when=pdf.when(a.revoked_at, w.timezone))
        pdf.field(pdf.t("documents.valid"), valid)
    if w.pickup_code is None:
        pdf.field(pdf.t("documents.code"), pdf.t(w.code_note or "documents.code.withheld"))
        return
    if pdf.will_page_break(42):
        pdf.add_page()
    top = pdf.get_y()
    pdf.set_text_color(*_MUTED)
    pdf.cell(_LABEL_W, 5, pdf.t("documents.code"))
    pdf.set_text_color(*_INK)
    left = pdf.l_margin + _LABEL_W
    pdf.image(
        _qr_png(w.pickup_code),
        x=left - 2,  # the QR code's own quiet zone lines it up with the values above
        y=top,
        w=36,
        h=36,
        alt_text=pdf.t("documents.code.qr_label", code=w.pickup_code),
    )
    pdf.set_xy(left + 38, top + 6)
    pdf.set_font(FONT, size=16)
    pdf.cell(0, 8, w.pickup_code, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=9)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(0, 4.6, pdf.t("documents.code.hint"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_INK)
    pdf.set_font(FONT, size=9.5)
    pdf.set_y(top + 37)


def _loading(pdf: _Page, w: Waybill) -> None:
    pdf.section(pdf.t("documents.loading"))
    weighed = w.weighing
    if weighed is None:
        pdf.field(pdf.t("documents.weighbridge"), pdf.t("documents.not_loaded"))
    else:
        ticket = (
            f"{weighed.weighbridge_id} · {pdf.t('documents.ticket')} {weighed.ticket}"
            if weighed.ticket
            else weighed.weighbridge_id
        )
        headings = [pdf.t(f"documents.{k}") for k in ("weighbridge", "tare", "gross", "net")]
        weights = (weighed.tare_kg, weighed.gross_kg, weighed.net_kg)
        pdf.grid(headings, [[ticket, *(pdf.kg(kg) for kg in weights)]], (66, 37, 37, 38))
        pdf.ln(1.5)
    pdf.field(pdf.t("documents.seals"), ", ".join(w.seals) or pdf.t("documents.no_seals"))


def waybill(w: Waybill) -> bytes:
    """The waybill: parties, route, cargo, truck and driver, the authorization with the pickup code as a
    QR code (for those who may hold it), and, once loaded, the weighbridge and the seals."""
    title = translate(w.locale, "documents.waybill.title")
    pdf = _Page(
        w.locale, translate(w.locale, "documents.footer", title=title, number=w.number, load_id=w.load_id)
    )
    pdf.set_title(f"{title} {w.number}")
    _header(pdf, w, title)
    _route(pdf, w)
    _cargo(pdf, w)
    _vehicle(pdf, w)
    _authorization(pdf, w)
    _loading(pdf, w)
    return bytes(pdf.output())


def _receipt(pdf: _Page, d: ProofOfDelivery) -> None:
    w = d.waybill
    pdf.section(pdf.t("documents.pod.receipt"))
    pdf.field(pdf.t("documents.pod.received_at"), pdf.when(d.received_at, w.timezone))
    pdf.field(pdf.t("documents.pod.received_weight"), pdf.kg(d.received_weight_kg))
    pdf.field(pdf.t(f"documents.pod.loaded.{d.loaded_net_source}"), pdf.kg(d.loaded_net_kg))
    difference = pdf.t(
        "documents.pod.difference_value",
        kg=pdf.signed_kg(d.discrepancy_kg),
        pct=number(pdf.locale, d.discrepancy_pct),
    )
    pdf.field(pdf.t("documents.pod.difference"), difference)
    pdf.field(pdf.t("documents.pod.condition"), pdf.t(f"documents.pod.condition.{d.condition}"))
    if d.override_reason:
        pdf.field("", pdf.t("documents.pod.override", reason=d.override_reason))
    if d.lines:
        pdf.section(pdf.t("documents.pod.items"))
        keys = ("line", "line_loaded", "line_received", "line_difference")
        rows = [
            [
                line.description,
                number(pdf.locale, line.loaded),
                number(pdf.locale, line.received),
                f"{line.difference:+d}" if line.difference else "0",
            ]
            for line in d.lines
        ]
        pdf.grid([pdf.t(f"documents.pod.{k}") for k in keys], rows, (78, 33, 33, 34))
    if d.discrepancies:
        pdf.section(pdf.t("documents.pod.discrepancies"))
        for kind, notes in d.discrepancies:
            pdf.field(pdf.t(f"documents.pod.discrepancy.{kind}"), notes)
    if d.notes:
        pdf.field(pdf.t("documents.pod.notes"), d.notes)


def _signature(pdf: _Page, d: ProofOfDelivery) -> None:
    pdf.section(pdf.t("documents.pod.signature"))
    pdf.field(pdf.t("documents.pod.signed_by"), d.signer_name)
    if d.signature_png is None:
        pdf.field(pdf.t("documents.pod.signature"), pdf.t(d.signature_note or "documents.pod.no_signature"))
        return
    if pdf.will_page_break(26):
        pdf.add_page()
    top = pdf.get_y()
    left = pdf.l_margin + _LABEL_W
    pdf.image(
        io.BytesIO(d.signature_png),
        x=left,
        y=top,
        w=60,
        h=20,
        keep_aspect_ratio=True,
        alt_text=f"{pdf.t('documents.pod.signature')}: {d.signer_name}",
    )
    pdf.set_xy(left, top + 20.5)
    pdf.set_font(FONT, size=7.5)
    pdf.set_text_color(*_MUTED)
    pdf.cell(0, 4, f"sha256 {d.signature_sha256}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_INK)
    pdf.set_font(FONT, size=9.5)


def _chain(pdf: _Page, d: ProofOfDelivery) -> None:
    pdf.section(pdf.t("documents.pod.chain"))
    pdf.multi_cell(
        0, 5, pdf.t("documents.pod.chain_record", seq=d.evidence_seq), new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(0, 5, d.evidence_hash, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(
        0,
        4.6,
        pdf.t("documents.pod.chain_check", load_id=d.waybill.load_id),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_text_color(*_INK)
    pdf.set_font(FONT, size=9.5)


def proof_of_delivery(d: ProofOfDelivery) -> bytes:
    """The proof of delivery: who delivered what (the waybill's parties, route, truck and driver, the
    loading weighed), what was received against it, the signer and the drawn signature, and the evidence
    chain's head that the receipt is chained as. The cargo is in the receipt's lines (items) or its
    weights (bulk), so the waybill's cargo table is left out: the paper fits on one page."""
    w = d.waybill
    title = translate(w.locale, "documents.pod.title")
    pdf = _Page(
        w.locale, translate(w.locale, "documents.footer", title=title, number=w.number, load_id=w.load_id)
    )
    pdf.set_title(f"{title} {w.number}")
    _header(pdf, w, title)
    _route(pdf, w)
    _vehicle(pdf, w, contact=False)
    _loading(pdf, w)
    _receipt(pdf, d)
    _signature(pdf, d)
    _chain(pdf, d)
    return bytes(pdf.output())
