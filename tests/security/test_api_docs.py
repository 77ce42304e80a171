"""Issue 20 item 12: the API documentation is a valid OpenAPI document and the docs page
sends a signed-out browser to the sign-in page (Swagger UI rendering it in Chromium:
tests/browser/test_docs_and_admin.py)."""

import json
from http import HTTPStatus

import pytest
import schemathesis
from django.test import Client

from accounts.models import Role

pytestmark = pytest.mark.django_db
SCHEMA, DOCS = "/api/v1/openapi.json", "/api/v1/docs"


def no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    assert duplicated == [], f"duplicated JSON keys {duplicated}"
    return dict(pairs)


def test_the_schema_has_no_duplicated_key_and_is_valid_openapi(api):
    text = api(Role.VIEWER).get(SCHEMA).content.decode()
    schema = json.loads(text, object_pairs_hook=no_duplicate_keys)
    assert schema["openapi"].startswith("3.")
    # schemathesis's loader checks the document against the OpenAPI meta-schema.
    schemathesis.openapi.from_dict(schema).validate()
    for path in ("/api/v1/studies/export", "/api/v1/reports/export"):
        export = schema["paths"][path]["get"]["responses"]["200"]
        assert set(export["content"]) == {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "text/csv",
        }


def test_every_response_code_is_a_string_key(api):
    schema = api(Role.VIEWER).get(SCHEMA).json()
    for item in schema["paths"].values():
        for operation in item.values():
            assert all(code.isdigit() for code in operation["responses"])


def test_signed_out_docs_page_redirects_to_sign_in(db):
    response = Client().get(DOCS)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/login/?next={DOCS}"


@pytest.mark.parametrize(
    ("path", "headers"),
    [(SCHEMA, {}), (SCHEMA, {"HTTP_AUTHORIZATION": "Bearer nope"}),
     (DOCS, {"HTTP_AUTHORIZATION": "Bearer nope"})],
)  # fmt: skip
def test_programs_without_a_valid_token_get_401_json(db, path, headers):
    response = Client(**headers).get(path)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"detail": "Not authenticated"}


def test_signed_in_browser_and_bearer_client_read_the_docs(api, make_user):
    assert api(Role.VIEWER).get(DOCS).status_code == HTTPStatus.OK
    browser = Client()
    browser.force_login(make_user(Role.VIEWER))
    page = browser.get(DOCS)
    assert page.status_code == HTTPStatus.OK
    assert b'id="swagger-ui"' in page.content
    assert browser.get(SCHEMA).status_code == HTTPStatus.OK
