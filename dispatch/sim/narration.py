"""The demo's narration: every line `dispatch demo` prints comes from the catalogue
(dispatch/i18n/messages/<locale>/demo.json), in the narration's language, with amounts, weights and
clock times formatted for it (Babel's CLDR data, as the pages' Intl) and times in the scenario's zone.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from babel.numbers import format_currency, get_currency_precision

from dispatch.i18n import LocaleName, babel_locale, catalogue, money, number, translate, weight


class Narrator:
    """Tells the story in `locale`: `say(key, **params)` prints a line of the catalogue with the
    seconds since the demo started; the other methods format what goes into the lines."""

    def __init__(self, locale: LocaleName, zone: str, currency: str) -> None:
        self.locale, self.zone, self.currency = locale, zone, currency
        self.t0 = time.monotonic()

    def __call__(self, key: str, *, count: int | None = None, **params: object) -> None:
        elapsed = self.text("demo.elapsed", seconds=f"{time.monotonic() - self.t0:6.1f}")
        print(f"{elapsed} {self.text(key, count=count, **params)}", flush=True)

    def text(self, key: str, *, count: int | None = None, **params: object) -> str:
        return translate(self.locale, key, count=count, **params)

    def term(self, group: str, value: str) -> str:
        """A value the API answers with (a job status, a plan method), in words when the catalogue
        has them (`demo.<group>.<value>`), else as answered."""
        key = f"demo.{group}.{value}"
        return self.text(key) if key in catalogue(self.locale) else value

    def price(self, minor: int) -> str:
        """An amount in the scenario's currency. In Chinese with the locale's symbol
        (dispatch.i18n.money: ¥3,840.00); in English as freight is quoted between traders, the ISO
        code and whole units (EUR 4,200, CNY 3,840), as the demo has always told it."""
        if self.locale == "zh-CN":
            return money(self.locale, minor, self.currency)
        value = Decimal(minor).scaleb(-get_currency_precision(self.currency))
        return format_currency(
            value, self.currency, format="¤¤ #,##0", currency_digits=False, locale=babel_locale(self.locale)
        )

    def tonnes(self, kg: float) -> str:
        return weight(self.locale, kg)

    def number(self, value: float) -> str:
        return number(self.locale, value)

    def signed(self, value: float) -> str:
        """A difference: -2,500 or +120."""
        return ("+" if value > 0 else "") + number(self.locale, value)

    def clock(self, when: datetime, *, seconds: bool = True) -> str:
        """A time of day in the scenario's zone (24-hour in both languages: 14:05:30). Every time the
        demo tells is minutes from now, so the date is left out."""
        return format_skeleton(
            "Hms" if seconds else "Hm", when, tzinfo=ZoneInfo(self.zone), locale=babel_locale(self.locale)
        )

    def join(self, parts: Iterable[str], *, clauses: bool = False) -> str:
        """Items of a list or clauses of a sentence, joined as the language does (", " and "; " in
        English, the enumeration comma and the full-width semicolon in Chinese)."""
        return self.text("demo.separator.clauses" if clauses else "demo.separator.list").join(parts)


def pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)
