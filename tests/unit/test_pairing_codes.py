"""Pairing codes and tracker ids: codes people read aloud and type (pure)."""

import re

from dispatch.accounts import credentials
from dispatch.accounts.credentials import (
    canonical_code,
    new_pairing_code,
    new_tracker_id,
    pairing_code_hash,
    tracker_id_hash,
)

SECRET = "s" * 40
SHOWN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def test_codes_are_shown_in_two_groups_of_crockford_base32():
    codes = {new_pairing_code() for _ in range(200)}
    assert all(SHOWN.match(c) for c in codes)
    assert len(codes) == 200  # 40 bits each: no repeats in a few hundred
    assert not set("ILOU") & set(credentials.CROCKFORD)


def test_a_code_is_accepted_as_typed_with_or_without_dash_in_any_case():
    code = new_pairing_code()
    wanted = pairing_code_hash(SECRET, code)
    for typed in (code, code.lower(), code.replace("-", ""), f"  {code[:4]} {code[5:].lower()} "):
        assert pairing_code_hash(SECRET, typed) == wanted


def test_look_alikes_read_as_crockford_decodes_them():
    assert canonical_code("o1l-IOo0") == "0111000"
    assert pairing_code_hash(SECRET, "ABC0-1111") == pairing_code_hash(SECRET, "abco-ilLi")


def test_what_cannot_be_a_code_has_no_hash():
    for typed in ("", "-", "ABCD-234", "ABCD-23456", "ABCU-2345", "ABCD_2345", "АВСD-2345"):  # noqa: RUF001
        assert pairing_code_hash(SECRET, typed) is None, typed


def test_the_code_hash_is_keyed_with_the_secret():
    code = new_pairing_code()
    assert pairing_code_hash(SECRET, code) != pairing_code_hash("t" * 40, code)


def test_tracker_ids_are_long_random_and_typed_like_codes():
    ids = [new_tracker_id() for _ in range(100)]
    assert all(re.match(r"^[0-9A-HJKMNP-TV-Z]{20}$", i) for i, _ in ids)
    assert len({i for i, _ in ids}) == 100
    tracker_id, stored = ids[0]
    grouped = "-".join(tracker_id[i : i + 4] for i in range(0, 20, 4)).lower()
    assert tracker_id_hash(grouped) == stored
    assert tracker_id_hash(tracker_id[:-1]) is None and tracker_id_hash("u" * 20) is None
