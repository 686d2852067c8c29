"""An organization's regional settings: defaults from the country, and the checks (pure:
dispatch/accounts/regional.py)."""

import pytest

from dispatch.accounts.regional import COUNTRY_DEFAULTS, HOME, Regional, settle
from dispatch.errors import Unprocessable


def test_a_chinese_organization_gets_yuan_shanghai_time_and_chinese():
    assert settle(country="CN") == Regional("CN", "CNY", "Asia/Shanghai", "zh-CN")


@pytest.mark.parametrize(("country", "zone"), [("AT", "Europe/Vienna"), ("DE", "Europe/Berlin")])
def test_austria_and_germany_get_euro_their_zone_and_english(country, zone):
    assert settle(country=country) == Regional(country, "EUR", zone, "en")


def test_without_a_country_an_organization_is_where_the_platform_started():
    assert settle() == HOME == Regional("AT", "EUR", "Europe/Vienna", "en")


def test_what_is_given_wins_over_the_country_default():
    assert settle(country="CN", currency="USD", locale="en") == Regional("CN", "USD", "Asia/Shanghai", "en")


def test_every_row_of_the_table_passes_its_own_checks():
    for country, row in COUNTRY_DEFAULTS.items():
        assert settle(country=country) == row


def test_a_country_outside_the_table_must_name_its_currency_and_time_zone():
    with pytest.raises(Unprocessable) as refused:
        settle(country="BR")
    assert refused.value.code == "no_default_for_country"
    assert refused.value.extra["errors"][0]["field"] == "$.currency"
    with pytest.raises(Unprocessable) as refused:
        settle(country="BR", currency="BRL")
    assert refused.value.extra["errors"][0]["field"] == "$.timezone"
    assert settle(country="BR", currency="BRL", timezone="America/Sao_Paulo") == Regional(
        "BR", "BRL", "America/Sao_Paulo", "en"
    )


@pytest.mark.parametrize(
    ("given", "code", "field"),
    [
        ({"country": "ZZ"}, "invalid_country", "$.country"),
        ({"country": "CN", "currency": "ABC"}, "invalid_currency", "$.currency"),
        ({"country": "CN", "timezone": "Asia/Peking"}, "invalid_timezone", "$.timezone"),
        # Files of the tz database that are not zones.
        ({"country": "CN", "timezone": "localtime"}, "invalid_timezone", "$.timezone"),
        ({"country": "CN", "timezone": "posix/Asia/Shanghai"}, "invalid_timezone", "$.timezone"),
    ],
)
def test_codes_that_are_not_in_their_standard_are_refused_naming_the_field(given, code, field):
    with pytest.raises(Unprocessable) as refused:
        settle(**given)
    assert refused.value.code == code
    assert refused.value.extra["errors"] == [
        {"field": field, "reason": refused.value.extra["errors"][0]["reason"], "source": "body"}
    ]
    assert field in refused.value.detail


def test_a_change_keeps_what_is_not_given():
    current = Regional("CN", "USD", "Asia/Shanghai", "en")
    assert settle(locale="zh-CN", current=current) == Regional("CN", "USD", "Asia/Shanghai", "zh-CN")
    assert settle(country="CN", current=current) == current  # not a move


def test_a_move_to_a_country_of_the_table_brings_its_defaults():
    assert settle(country="CN", current=HOME) == COUNTRY_DEFAULTS["CN"]
    assert settle(country="DE", timezone="Europe/Vienna", current=HOME) == Regional(
        "DE", "EUR", "Europe/Vienna", "en"
    )


def test_a_move_outside_the_table_keeps_the_other_settings():
    assert settle(country="BR", current=HOME) == Regional("BR", "EUR", "Europe/Vienna", "en")
