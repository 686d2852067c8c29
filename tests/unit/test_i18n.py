"""Choosing the language, filling texts and formatting per locale (dispatch/i18n)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dispatch.i18n import date_time, money, negotiate, supported, translate, weight


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en-GB,en;q=0.9", "en"),
        ("de-AT,de;q=0.9,zh;q=0.5,en;q=0.4", "zh-CN"),  # the first language a catalogue serves, by weight
        ("en;q=0.3, zh-Hans;q=0.7", "zh-CN"),
        ("zh-TW", "zh-CN"),  # the only Chinese catalogue serves every Chinese tag
        ("zh;q=0, en", "en"),  # q=0 means "not this one"
        ("*", None),
        ("fr-FR", None),
        ("", None),
        (None, None),
        ("en;q=2, garbage;;", None),  # malformed ranges are skipped, not guessed
    ],
)
def test_accept_language_picks_the_first_served_language_else_the_org_default(
    header: str | None, expected: str | None
) -> None:
    assert negotiate(header, org="zh-CN") == (expected or "zh-CN")
    assert negotiate(header) == (expected or "en")


def test_the_users_own_setting_comes_before_the_header_and_the_org() -> None:
    assert negotiate("en-US", user="zh-CN", org="en") == "zh-CN"
    assert negotiate("zh-CN", user="en", org="zh-CN") == "en"
    assert negotiate("zh-CN", user="xx", org="en") == "zh-CN"  # an unknown setting is no setting


def test_supported_maps_tags_to_catalogues() -> None:
    assert supported("zh_CN") == "zh-CN"
    assert supported("EN-us") == "en"
    assert supported("ja") is None


def test_translate_fills_placeholders_and_plural_forms() -> None:
    assert translate("en", "common.unit.items", count=1) == "1 item"
    assert translate("en", "common.unit.items", count=3) == "3 items"
    assert translate("zh-CN", "common.unit.items", count=1) == "1 件"
    assert translate("zh-CN", "common.unit.tonnes", value="12.5") == "12.5 吨"
    assert translate("en", "common.signin.organization", id="x") == "organization x"
    assert translate("en", "no.such.key") == "no.such.key"


def test_money_uses_the_currencys_minor_units_and_the_locales_symbol() -> None:
    assert money("zh-CN", 128000, "CNY") == "¥1,280.00"
    assert money("en", 128000, "EUR") == "€1,280.00"
    assert money("en", 500, "JPY") == "¥500"  # yen has no minor unit
    assert money("en", 128000, "CNY") == "CN¥1,280.00"


def test_weight_is_in_tonnes() -> None:
    assert weight("zh-CN", 24_500) == "24.5 吨"
    assert weight("en", 1_234_000) == "1,234 t"


def test_date_time_is_in_the_given_zone() -> None:
    when = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)
    assert "09:30" in date_time("zh-CN", when, "Asia/Shanghai")
    assert "2026" in date_time("en", when, "Europe/Vienna")
