"""The plate key and the country rules (pure: dispatch/plates.py)."""

# ruff: noqa: RUF001 (full-width letters and digits are what these tests type)

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.plates import PROVINCES, PlateRefused, check_plate, plate_key

SEPARATORS = [" ", "-", "·", "•", "\u3000", "－"]


def _full_width(ch: str) -> str:
    # FF01..FF5E are the full-width forms of ASCII 21..7E.
    return chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch


@given(st.text())
def test_the_key_of_a_key_is_itself(text):
    assert plate_key(plate_key(text)) == plate_key(text)


@st.composite
def plate_and_variant(draw):
    """A Chinese or generic plate, and the same plate respelled: separators anywhere, any case,
    any character in its full-width form."""
    serial = draw(st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=5, max_size=6))
    plate = draw(st.sampled_from(PROVINCES)) + draw(st.sampled_from("ABCDEFG")) + serial
    if draw(st.booleans()):
        plate = serial + draw(st.text(alphabet="ABCXYZ019", min_size=1, max_size=8))
    variant = ""
    for ch in plate:
        if draw(st.booleans()):
            ch = ch.lower()
        if draw(st.booleans()):
            ch = _full_width(ch)
        variant += ch + draw(st.text(alphabet="".join(SEPARATORS), max_size=2))
    return plate, variant


@given(plate_and_variant())
def test_separator_width_and_case_variants_of_one_plate_have_one_key(pair):
    plate, variant = pair
    assert plate_key(variant) == plate_key(plate) == plate
    assert re.fullmatch(r"[A-Z0-9]+", plate_key(variant)[1:])


@pytest.mark.parametrize(
    ("plate", "key"),
    [
        ("京A12345", "京A12345"),
        ("粤B·D12345", "粤BD12345"),  # new-energy, small car: D first
        ("粤B12345F", "粤B12345F"),  # new-energy, large vehicle: F last
        ("鲁C1234挂", "鲁C1234挂"),
        ("粤Z1234港", "粤Z1234港"),
        ("b-ab 1234", "BAB1234"),
        ("ｈｈ－ｘｙ　９９", "HHXY99"),
    ],
)
def test_plates_of_their_country_pass_with_their_key(plate, key):
    assert check_plate(plate) == key


@pytest.mark.parametrize(
    ("plate", "code", "rule"),
    [
        ("京A1234", "invalid_plate", "cn_plate"),
        ("京A1234567", "invalid_plate", "cn_plate"),
        ("粤BX123456", "invalid_plate", "cn_plate"),
        ("京112345", "invalid_plate", "cn_plate"),
        ("A", "invalid_plate", "generic_plate"),
        ("AB京12", "invalid_plate", "generic_plate"),
        ("京A1234学", "plate_class_not_allowed", "cn_class"),
        ("京A1234警", "plate_class_not_allowed", "cn_class"),
        ("使123456", "plate_class_not_allowed", "cn_class"),
        ("沪A1234领", "plate_class_not_allowed", "cn_class"),
    ],
)
def test_plates_breaking_a_rule_are_refused_with_it(plate, code, rule):
    with pytest.raises(PlateRefused) as refused:
        check_plate(plate)
    assert (refused.value.code, refused.value.rule) == (code, rule) and plate in refused.value.reason


@pytest.mark.parametrize("country", [None, "AT", "DE", "US"])
def test_a_plate_that_does_not_say_its_country_follows_the_generic_rule_outside_china(country):
    assert check_plate("B-AB 1234", country) == "BAB1234"


def test_a_chinese_registration_reads_a_plate_without_a_province_as_a_chinese_one():
    with pytest.raises(PlateRefused) as refused:
        check_plate("B-AB 1234", "CN")
    assert (refused.value.code, refused.value.rule) == ("invalid_plate", "cn_plate")
    assert "registered in China" in refused.value.reason
    # Chinese plates pass there, and say their own country anywhere else.
    assert check_plate("粤B·D12345", "CN") == check_plate("粤B·D12345", "AT") == "粤BD12345"
    with pytest.raises(PlateRefused) as refused:
        check_plate("京A1234", "AT")
    assert refused.value.rule == "cn_plate" and "registered in China" not in refused.value.reason
