"""The catalogue is complete: every key of one language exists in the other, with the same
placeholders, in the area file its prefix names; so no page, problem or narration can show a raw key
or lose a value in one language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dispatch.i18n import LOCALES, MESSAGES, placeholders


def _files(locale: str) -> dict[str, dict[str, str]]:
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted((MESSAGES / locale).glob("*.json"))
    }


def test_every_language_has_the_same_area_files() -> None:
    areas = {locale: set(_files(locale)) for locale in LOCALES}
    assert areas["en"], "the English catalogue is empty"
    for locale in LOCALES:
        assert areas[locale] == areas["en"], f"{locale} has other area files than en"


@pytest.mark.parametrize("area", sorted(p.stem for p in (MESSAGES / "en").glob("*.json")))
def test_an_area_file_has_the_same_keys_and_placeholders_in_every_language(area: str) -> None:
    by_locale = {locale: _files(locale)[area] for locale in LOCALES}
    english = by_locale["en"]
    for locale, texts in by_locale.items():
        only_here = sorted(set(texts) - set(english))
        only_in_english = sorted(set(english) - set(texts))
        assert not only_here and not only_in_english, (
            f"{area}.json: keys in {locale} and not in en: {only_here}; "
            f"in en and not in {locale}: {only_in_english}"
        )
        for key, text in texts.items():
            assert key.startswith(f"{area}."), f"{locale}/{area}.json: {key} belongs in another file"
            assert isinstance(text, str) and text.strip(), f"{locale}/{area}.json: {key} is empty"
            assert placeholders(text) == placeholders(english[key]), (
                f"{locale}/{area}.json: {key} has placeholders {sorted(placeholders(text))}, "
                f"en has {sorted(placeholders(english[key]))}"
            )


def test_plural_keys_come_in_pairs() -> None:
    for locale in LOCALES:
        keys = {k for texts in _files(locale).values() for k in texts}
        for key in keys:
            for form, other in (("_one", "_other"), ("_other", "_one")):
                if key.endswith(form):
                    assert key.removesuffix(form) + other in keys, f"{locale}: {key} has no {other} form"


def test_the_files_are_plain_utf8_json_objects_without_duplicate_keys() -> None:
    def no_duplicates(pairs: list[tuple[str, str]]) -> dict[str, str]:
        keys = [k for k, _ in pairs]
        duplicated = sorted({k for k in keys if keys.count(k) > 1})
        assert not duplicated, f"duplicate keys: {duplicated}"
        return dict(pairs)

    for path in Path(MESSAGES).glob("*/*.json"):
        json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)
