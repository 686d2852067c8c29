"""The OpenAPI document says what the answers carry beyond their bodies (dispatch/openapi.py)."""

from dispatch.app import create_app
from dispatch.settings import Settings


def test_the_answers_that_carry_retry_after_document_it():
    app = create_app(Settings(database_url="postgresql://unused/none", secret_key="k" * 40))
    doc = app.openapi_schema.to_schema()
    login = doc["paths"]["/auth/login"]["post"]["responses"]
    assert login["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 0}
    assert "Retry-After" in doc["paths"]["/healthz"]["get"]["responses"]["503"]["headers"]
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for status, answer in operation.get("responses", {}).items():
                carries = "Retry-After" in answer.get("headers", {})
                assert carries == (status in {"409", "429", "503"}), (method, path, status)
