"""Every text a person reads, in English and Chinese (zh-CN), from one catalogue per language.

The pages, the driver app, the problem details' `detail` and the demo's narration all take their
texts from the same JSON catalogue: `messages/<locale>/<area>.json`, flat objects whose keys start
with `<area>.`, assembled into one catalogue per language and served to the pages at
`/i18n/<locale>.json`. Placeholders are `{name}`; a text that depends on a count has two keys,
`<key>_one` and `<key>_other`, chosen by the language's plural rule (Babel's CLDR data here, the
browser's `Intl.PluralRules` on the pages). Both languages carry exactly the same keys and the same
placeholders (tests/unit/test_i18n_catalogue.py), so no page or message can fall back to a raw key.

Numbers, money, dates and units are formatted with Babel on the server and `Intl` on the pages,
both from CLDR, so the two agree.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Final, Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal, get_currency_precision

LocaleName = Literal["en", "zh-CN"]
LOCALES: Final[tuple[LocaleName, ...]] = ("en", "zh-CN")
DEFAULT_LOCALE: Final[LocaleName] = "en"
MESSAGES: Final = Path(__file__).parent / "messages"

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# One language range of an Accept-Language header, with its optional weight (RFC 9110 §12.5.4).
_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([01](?:\.[0-9]{0,3})?))?\s*$"
)


def supported(name: str | None) -> LocaleName | None:
    """The catalogue that serves a language tag, or None: every Chinese tag is served by zh-CN (the
    only Chinese catalogue; Simplified is read across the mainland, Singapore and by most traders),
    every English one by en."""
    if not name:
        return None
    primary = name.split("-", 1)[0].split("_", 1)[0].lower()
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def negotiate(accept_language: str | None, *, user: str | None = None, org: str | None = None) -> LocaleName:
    """The language to answer in: the user's own setting, else the first language of the request's
    `Accept-Language` (by weight) that a catalogue serves, else the organization's default, else
    English."""
    return supported(user) or _from_header(accept_language) or supported(org) or DEFAULT_LOCALE


def _from_header(header: str | None) -> LocaleName | None:
    if not header:
        return None
    ranges: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        match = _RANGE.match(part)
        if match is None:
            continue
        weight = float(match[2]) if match[2] is not None else 1.0
        if weight > 0:
            ranges.append((-weight, position, match[1]))
    for _, _, tag in sorted(ranges):
        found = supported(tag)
        if found:
            return found
    return None


@functools.cache
def catalogue(locale: LocaleName) -> Mapping[str, str]:
    """The whole catalogue of one language: every area's file, merged (read once per process: the
    files ship with the package and do not change while it runs)."""
    merged: dict[str, str] = {}
    for path in sorted((MESSAGES / locale).glob("*.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


@functools.cache
def catalogue_json(locale: LocaleName) -> bytes:
    """The catalogue as the pages load it."""
    return json.dumps(catalogue(locale), ensure_ascii=False, sort_keys=True).encode()


def babel_locale(locale: LocaleName) -> Locale:
    return Locale.parse(locale.replace("-", "_"))


def translate(locale: LocaleName, key: str, *, count: int | None = None, **params: object) -> str:
    """The text of `key` in `locale` with its `{placeholders}` filled. With `count`, the key's plural
    form for that count (`key_one` / `key_other`), and `{count}` is filled with it. A key missing from
    the catalogue is a bug the catalogue test catches; it is answered with the key itself."""
    texts = catalogue(locale)
    if count is not None:
        form = babel_locale(locale).plural_form(count)
        key = f"{key}_{form}" if f"{key}_{form}" in texts else f"{key}_other"
        params.setdefault("count", count)
    text = texts.get(key, key)
    return _PLACEHOLDER.sub(lambda m: str(params[m[1]]) if m[1] in params else m[0], text)


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def money(locale: LocaleName, minor: int, currency: str) -> str:
    """An amount in the currency's minor units (cents, fen), formatted for `locale`: ¥1,280.00."""
    digits = get_currency_precision(currency)
    return format_currency(Decimal(minor).scaleb(-digits), currency, locale=babel_locale(locale))


def number(locale: LocaleName, value: float | int) -> str:
    return format_decimal(value, locale=babel_locale(locale))


def weight(locale: LocaleName, kg: float) -> str:
    """A weight in tonnes (t / 吨), the unit bulk freight is traded in."""
    return translate(
        locale, "common.unit.tonnes", value=format_decimal(round(kg / 1000, 3), locale=babel_locale(locale))
    )


def date_time(locale: LocaleName, when: datetime, zone: str) -> str:
    return format_datetime(when, "medium", tzinfo=ZoneInfo(zone), locale=babel_locale(locale))
