"""An organization's regional settings: country, currency, time zone and locale (pure).

The country is ISO 3166-1 alpha-2 and the currency ISO 4217, both checked against pycountry (the ISO
lists as data, kept up to date by its maintainers); the time zone is an IANA name that zoneinfo knows;
the locale is one of the languages the platform speaks.

When an organization names only its country, the rest comes from `COUNTRY_DEFAULTS`, a small table
of the markets the platform serves (dispatch/accounts/README.md, "Organization settings"). A new
organization in a country outside the table names its currency and time zone (there is no guessing)
and speaks English unless it says otherwise; one that moves there keeps what it had. An organization
made without a country is in `HOME`: Austria, EUR, Europe/Vienna, English, the platform's first
market, which is also what every organization made before these settings got (migration 0010), so
nothing they see changes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Annotated, Final
from zoneinfo import available_timezones

import pycountry
from msgspec import Meta

from dispatch.errors import Unprocessable
from dispatch.i18n import LocaleName

# The languages an organization or a person can choose are the catalogues there are (dispatch.i18n).

CountryCode = Annotated[
    str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code", examples=["CN", "AT"])
]
CurrencyCode = Annotated[
    str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code", examples=["CNY", "EUR"])
]
TimeZoneName = Annotated[
    str, Meta(min_length=1, max_length=64, description="IANA time zone", examples=["Asia/Shanghai"])
]


@dataclass(frozen=True)
class Regional:
    country: str
    currency: str
    timezone: str
    locale: LocaleName


# The markets the platform serves: what a country's organizations use unless they say otherwise.
COUNTRY_DEFAULTS: Final[dict[str, Regional]] = {
    r.country: r
    for r in (
        Regional("CN", "CNY", "Asia/Shanghai", "zh-CN"),
        Regional("AT", "EUR", "Europe/Vienna", "en"),
        Regional("DE", "EUR", "Europe/Berlin", "en"),
        Regional("CH", "CHF", "Europe/Zurich", "en"),
        Regional("CZ", "CZK", "Europe/Prague", "en"),
        Regional("SK", "EUR", "Europe/Bratislava", "en"),
        Regional("HU", "HUF", "Europe/Budapest", "en"),
        Regional("SI", "EUR", "Europe/Ljubljana", "en"),
        Regional("IT", "EUR", "Europe/Rome", "en"),
        Regional("PL", "PLN", "Europe/Warsaw", "en"),
    )
}
HOME: Final = COUNTRY_DEFAULTS["AT"]


def _refused(field: str, code: str, reason: str) -> Unprocessable:
    return Unprocessable(
        f"{field}: {reason}", code=code, errors=[{"field": field, "reason": reason, "source": "body"}]
    )


@functools.cache
def _zones() -> frozenset[str]:
    # Read from the system's tz database once per process. zoneinfo leaves out files that are not
    # zones ("posix/...", "right/..."), but takes Debian's "localtime", a link to the machine's own
    # zone: that is a setting of this server, not a place.
    return frozenset(available_timezones()) - {"localtime"}


def check_country(code: str, field: str = "$.country") -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise _refused(field, "invalid_country", f"{code!r} is not an ISO 3166-1 alpha-2 country code.")
    return code


def check_currency(code: str, field: str = "$.currency") -> str:
    if pycountry.currencies.get(alpha_3=code) is None:
        raise _refused(field, "invalid_currency", f"{code!r} is not an ISO 4217 currency code.")
    return code


def check_timezone(name: str, field: str = "$.timezone") -> str:
    if name not in _zones():
        raise _refused(field, "invalid_timezone", f"{name!r} is not an IANA time zone name.")
    return name


def settle(
    *,
    country: str | None = None,
    currency: str | None = None,
    timezone: str | None = None,
    locale: LocaleName | None = None,
    current: Regional | None = None,
) -> Regional:
    """The settings an organization ends with, each one checked (a 422 naming the field otherwise).

    What is not given comes from the country's row of `COUNTRY_DEFAULTS` when the country is new
    (a new organization, or a change of country), else it stays as it is (`current`). A new
    organization without a country is in `HOME`."""
    if country is None:
        country = current.country if current else HOME.country
    check_country(country)
    moved = current is None or country != current.country
    base = COUNTRY_DEFAULTS.get(country) if moved else current
    if base is None:
        # A country outside the table: its currency and time zone must be named; a move keeps the
        # ones the organization had (they were its choice), a new organization has none to keep.
        if current is not None:
            base = replace(current, country=country)
        else:
            for field, value in (("$.currency", currency), ("$.timezone", timezone)):
                if value is None:
                    raise _refused(
                        field,
                        "no_default_for_country",
                        f"there is no default for {country}; give the organization's "
                        f"{field.removeprefix('$.').replace('timezone', 'time zone')}.",
                    )
            base = Regional(country, currency or "", timezone or "", "en")
    return Regional(
        country=country,
        currency=check_currency(currency if currency is not None else base.currency),
        timezone=check_timezone(timezone if timezone is not None else base.timezone),
        locale=locale if locale is not None else base.locale,
    )
