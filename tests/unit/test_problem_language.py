"""How a problem's detail is put in the request's language (dispatch.errors.localized_detail), for
the cases the API tests cannot arrange: a code without a text, a raising site that gave no value for
a placeholder, and a problem answered outside any request. Pure logic: a minimal ASGI app inside the
real `answer_in_request_language` middleware."""

from __future__ import annotations

from typing import Any

from dispatch.errors import Params, answer_in_request_language, localized_detail, problem_response


async def _answered(
    header: bytes | None, code: str, detail: str, params: Params | None = None
) -> tuple[str, str]:
    seen: list[tuple[str, str]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(localized_detail(code, detail, params))

    headers = [(b"accept-language", header)] if header is not None else []
    await answer_in_request_language(app)({"type": "http", "headers": headers}, None, None)
    [answer] = seen
    return answer


async def test_english_and_unserved_languages_keep_the_detail_as_given() -> None:
    for header in (None, b"en", b"en-GB,en;q=0.9", b"fr-FR", b"*"):
        assert await _answered(header, "login_throttled", "Wait 60 s.", {"seconds": 60}) == (
            "Wait 60 s.",
            "en",
        )


async def test_chinese_fills_the_values_in_the_locales_formats() -> None:
    detail, language = await _answered(b"zh-CN", "body_too_large", "Too large.", {"limit": 1048576})
    assert (detail, language) == ("请求内容超过 1,048,576 字节的上限。", "zh-CN")
    detail, _ = await _answered(b"zh", "validation_failed", "x", {"fields": ["$.a", "$.b[0]"]})
    assert "$.a、$.b[0]" in detail


async def test_without_a_text_or_a_value_the_english_detail_is_kept_and_said_to_be_english() -> None:
    assert await _answered(b"zh-CN", "no_such_code_anywhere", "English.") == ("English.", "en")
    # The text names {seconds}: a raising site that did not give it keeps its English detail
    # rather than showing a raw {seconds}.
    assert await _answered(b"zh-CN", "login_throttled", "Wait 60 s.") == ("Wait 60 s.", "en")


async def test_outside_a_request_a_problem_is_english() -> None:
    await _answered(b"zh-CN", "not_found", "Nothing here.")  # the request's language ends with it
    assert localized_detail("not_found", "Nothing here.") == ("Nothing here.", "en")
    answer = problem_response(404, "not_found", "Nothing here.")
    assert answer.headers["Content-Language"] == "en"
    assert answer.content["detail"] == "Nothing here."
