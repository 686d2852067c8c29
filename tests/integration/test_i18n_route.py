"""The pages load their texts from /i18n/<locale>.json: the same catalogue the server uses."""

from dispatch.i18n import catalogue
from tests.support import problem


async def test_each_language_is_served_whole_and_an_unknown_one_is_a_clear_404(client):
    for locale in ("en", "zh-CN"):
        answer = await client.get(f"/i18n/{locale}.json")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.headers["cache-control"] == "no-cache"
        assert answer.json() == dict(catalogue(locale))
    assert (await client.get("/i18n/zh-CN.json")).json()["common.signin.password"] == "密码"

    missing = await client.get("/i18n/fr.json")
    assert problem(missing, 404, "locale_not_found")
    assert "en, zh-CN" in missing.json()["detail"]
