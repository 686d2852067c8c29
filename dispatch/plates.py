"""Vehicle plates: the key they are matched by, and the rules a plate must follow to be stored.

A plate is kept as typed (for people) and matched by its key: NFKC folds full-width letters and
digits to half-width, letters are upper-cased, and everything that is not a letter or digit
(spaces, `-`, `·`, `•`) is dropped, so "粤B·D12345", "粤BD12345" and "粤ｂ d12345" are one truck.

The plate says which rules apply when it can: one that starts with a Chinese province abbreviation
is checked as a Chinese plate. One that does not say takes the country it is registered in (the
carrier organization's, when a vehicle joins a fleet): a Chinese carrier's trucks carry Chinese
plates, so there it is refused as one; anywhere else, or with no country given, the generic
(European) rule of 2 to 15 letters and digits applies.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from msgspec import Meta

from dispatch.errors import Unprocessable

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Class characters of plates a dispatch gate does not let load freight, and why.
REFUSED_CLASSES = {
    "学": "a learner-driver (学) plate",
    "警": "a police (警) plate",
    "使": "an embassy (使) plate",
    "领": "a consulate (领) plate",
}
# Chinese plates: province, issuing-office letter, then the serial. New-energy plates have six
# characters with D or F (electric / hybrid) first for small cars, last for large vehicles.
_CHINESE_RULES = (
    ("cn_new_energy", re.compile(rf"^[{PROVINCES}][A-Z](?:[DF][A-Z0-9][0-9]{{4}}|[0-9]{{5}}[DF])$")),
    ("cn_standard", re.compile(rf"^[{PROVINCES}][A-Z][A-Z0-9]{{5}}$")),
    ("cn_trailer", re.compile(rf"^[{PROVINCES}][A-Z][A-Z0-9]{{4}}挂$")),
    ("cn_hong_kong_macau", re.compile(rf"^[{PROVINCES}][A-Z][A-Z0-9]{{4}}[港澳]$")),
)
_GENERIC = re.compile(r"^[A-Z0-9]{2,15}$")

# What the wire accepts before the rules above run: 2 to 15 plate characters (letters, digits,
# their full-width forms, the Chinese characters a plate carries) with separators between them.
_CHARS = rf"A-Za-z0-9\uFF21-\uFF3A\uFF41-\uFF5A\uFF10-\uFF19{PROVINCES}挂港澳{''.join(REFUSED_CLASSES)}"
_SEPARATORS = r" \u3000·•・\-\uFF0D"
PlateText = Annotated[
    str,
    Meta(
        min_length=2,
        max_length=20,
        pattern=rf"^[{_CHARS}](?:[{_SEPARATORS}]*[{_CHARS}]){{1,14}}[{_SEPARATORS}]*$",
        description=(
            "As written on the vehicle (20 characters at most): 2 to 15 letters, digits or Chinese plate"
            " characters, with spaces, dashes or dots between them. A plate starting with a Chinese province"
            " must be a Chinese plate (standard 京A12345, new-energy 粤B·D12345, trailer 鲁C1234挂); learner,"
            " police, embassy and consulate plates are refused (422 plate_class_not_allowed), other"
            " malformed plates are 422 invalid_plate."
        ),
        examples=["B-AB 1234", "京A12345", "粤B·D12345"],
    ),
]


def plate_key(plate: str) -> str:
    """The key plates are matched by: "b-ab 1234" is "BAB1234", "粤B·D12345" is "粤BD12345"."""
    key = plate
    # Dropping a character can let its neighbours compose under NFKC (Hangul jamo), so fold until
    # nothing changes: the key of a key is itself.
    for _ in range(8):
        folded = "".join(ch for ch in unicodedata.normalize("NFKC", key).upper() if ch.isalnum())
        if folded == key:
            break
        key = folded
    return key


class PlateRefused(ValueError):
    """A plate that may not be stored: `code` for machines, `reason` for people, `rule` it broke."""

    def __init__(self, code: str, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.rule, self.reason = code, rule, reason


def check_plate(plate: str, country: str | None = None) -> str:
    """The key of a plate that follows its country's rules; PlateRefused otherwise (pure).
    `country` (ISO 3166-1 alpha-2) is where the vehicle is registered, for a plate that does not
    say it itself."""
    key = plate_key(plate)
    for ch, what in REFUSED_CLASSES.items():
        if ch in key:
            raise PlateRefused(
                "plate_class_not_allowed", "cn_class", f"{plate} is {what}: not a freight truck."
            )
    says_chinese = bool(key) and key[0] in PROVINCES
    if says_chinese or country == "CN":
        if any(rule.match(key) for _, rule in _CHINESE_RULES):
            return key
        registered = "" if says_chinese else "The vehicle is registered in China: "
        raise PlateRefused(
            "invalid_plate",
            "cn_plate",
            f"{registered}{plate} is not a Chinese plate: a province, a letter and 5 letters or digits"
            " (京A12345), 6 for new-energy with D or F (粤B·D12345), or 4 and 挂 for a trailer (鲁C1234挂).",
        )
    if _GENERIC.match(key):
        return key
    raise PlateRefused(
        "invalid_plate", "generic_plate", f"{plate} is not a plate: 2 to 15 letters and digits (B-AB 1234)."
    )


def require_plate(plate: str, field: str = "$.plate", country: str | None = None) -> str:
    """check_plate for a request: a refused plate is a 422 naming the field, the rule and why."""
    try:
        return check_plate(plate, country)
    except PlateRefused as refused:
        raise Unprocessable(
            f"{field}: {refused.reason}",
            code=refused.code,
            params={"field": field, "plate": plate},
            errors=[{"field": field, "reason": refused.reason, "rule": refused.rule, "source": "body"}],
        ) from None
