"""A site's address composed from its parts in the form of its country (pure: dispatch/sites/addresses.py)."""

import pytest

from dispatch.sites.addresses import one_line
from dispatch.sites.models import AddressParts


def test_a_chinese_address_runs_from_the_largest_unit_to_the_number_without_separators():
    # Tianjin is a municipality: the province-level unit and the city are one, said once.
    parts = AddressParts(
        country="CN",
        province="天津市",
        city="天津市",
        district="滨海新区",
        street="新港二号路",
        number="12",
        postcode="300456",
    )
    assert one_line(parts) == "天津市滨海新区新港二号路12号"


def test_a_chinese_address_in_a_province_names_province_city_and_district():
    parts = AddressParts(
        country="CN", province="河北省", city="唐山市", district="路北区", street="建设北路", number="88号"
    )
    # A number that already carries its unit is kept as written.
    assert one_line(parts) == "河北省唐山市路北区建设北路88号"


@pytest.mark.parametrize(
    ("number", "written"),
    [("5", "5号"), (" 7 ", "7号"), ("3弄", "3弄"), ("12-3", "12-3号"), (None, "")],
)
def test_a_chinese_house_number_gets_hao_unless_it_has_a_unit(number, written):
    parts = AddressParts(country="CN", city="上海市", district="浦东新区", street="世纪大道", number=number)
    assert one_line(parts) == "上海市浦东新区世纪大道" + written


def test_romanized_chinese_parts_keep_a_space_between_latin_words_only():
    parts = AddressParts(country="CN", city="Tianjin", district="Binhai", street="Xingang Rd", number="12")
    assert one_line(parts) == "Tianjin Binhai Xingang Rd 12号"


def test_a_european_address_reads_street_number_postcode_city_country():
    parts = AddressParts(country="AT", street="Handelskai", number="94", postcode="1020", city="Wien")
    assert one_line(parts) == "Handelskai 94, 1020 Wien, AT"


def test_a_european_address_leaves_out_what_is_not_given_and_province_and_district():
    parts = AddressParts(
        country="DE", province="Bayern", district="Mitte", street="Hafenstraße", city="Regensburg"
    )
    assert one_line(parts) == "Hafenstraße, Regensburg, DE"


@pytest.mark.parametrize("country", ["DE", "IT", "PL", "US"])
def test_every_country_but_china_takes_the_european_order(country):
    parts = AddressParts(country=country, street="Main", number="1", postcode="999", city="Town")
    assert one_line(parts) == f"Main 1, 999 Town, {country}"
