"""A NUL character anywhere in a request (issue 20, item 6).

PostgreSQL cannot store U+0000: a NUL that reached a query was a 500 on every search, detail,
filter and export route and at login, unaudited, and on SQLite ``q=%00`` matched every study.
Now it is a 422 naming the field under /api/v1 (Ninja's validation shape), a 400 page for the
web UI, on both databases; nothing reaches the database, the connection stays usable, and
the refusal is in the audit log with the NUL marked.
"""

import json
import os
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import pytest
from django.http import HttpRequest, JsonResponse
from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent
from core.badinput import NUL_MARK, NulField, answer_nul, first_nul_field
from ingest.models import ImportBatch
from tests.security.conftest import tiny_csv

NUL = "\x00"

# (method, path, how the NUL is sent, the loc of the 422)
API_CASES = [
    ("GET", "/api/v1/studies/search?q=%00", None, ["query", "q"]),
    ("GET", "/api/v1/studies/search?q=abc%00def&page=1", None, ["query", "q"]),
    ("GET", "/api/v1/studies/search?exam_status=%00", None, ["query", "exam_status"]),
    ("GET", "/api/v1/studies/search?exam_item=%E8%83%B8%00", None, ["query", "exam_item"]),
    ("GET", "/api/v1/studies/search?equipment_type=%00", None, ["query", "equipment_type"]),
    ("GET", "/api/v1/studies/search?%00=1", None, ["query", NUL_MARK]),
    ("GET", "/api/v1/studies/SEC0001%00", None, ["path"]),
    ("GET", "/api/v1/studies/filters/options?x=%00", None, ["query", "x"]),
    ("GET", "/api/v1/studies/export?q=%00", None, ["query", "q"]),
    ("GET", "/api/v1/studies/export?format=csv&exam_source=%00", None, ["query", "exam_source"]),
    ("GET", "/api/v1/reports/search?q=%00", None, ["query", "q"]),
    ("GET", "/api/v1/reports/search?patient_name=%00", None, ["query", "patient_name"]),
    ("GET", "/api/v1/reports/export?format=csv&patient_name=%00", None, ["query", "patient_name"]),
    ("GET", "/api/v1/reports/search?radiologist=%00", None, ["query", "radiologist"]),
    ("GET", "/api/v1/reports/RSEC0001%00", None, ["path"]),
    ("GET", "/api/v1/reports/search?exam_id=%00", None, ["query", "exam_id"]),
    ("GET", "/api/v1/analysis/tasks?exam_id=%00", None, ["query", "exam_id"]),
    ("GET", "/api/v1/import/batches/x%00", None, ["path"]),
    ("POST", "/api/v1/analysis/tasks", {"exam_id": "SEC0001\u0000", "analysis_type": "general"},
     ["body", "exam_id"]),
    ("POST", "/api/v1/analysis/tasks",
     {"exam_id": "SEC0001", "analysis_type": "general", "description": "a\u0000b"},
     ["body", "description"]),
    ("POST", "/api/v1/auth/refresh", {"refresh": "\u0000"}, ["body", "refresh"]),
    ("GET", "/api/v1/studies/search", {"HTTP_X_CLIENT": "a\x00b"}, ["header", "x-client"]),
]  # fmt: skip


def _send(client: Client, method: str, path: str, extra: object):
    if method == "GET":
        return client.get(path, **(extra or {}))
    return client.post(path, json.dumps(extra), content_type="application/json")


def _refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="input.refused").order_by("id"))


@pytest.mark.parametrize(("method", "path", "extra", "loc"), API_CASES)
def test_a_nul_in_api_input_is_a_422_naming_the_field_and_is_audited(
    world, method, path, extra, loc
):
    before = AuditEvent.objects.count()
    response = _send(world.client(Role.ADMIN), method, path, extra)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    label = ".".join(str(p) for p in loc[1:]) or loc[0]
    assert response.json() == {
        "detail": [
            {
                "type": "string_nul",
                "loc": loc,
                "msg": f"The field '{label}' must not contain a NUL character (U+0000)",
            }
        ]
    }
    # Exactly one audit row, the refusal, under its user, with the NUL marked.
    assert AuditEvent.objects.count() == before + 1
    (event,) = _refusals()
    assert (event.username, event.outcome, event.status_code) == ("sec_admin", "failure", 422)
    assert event.detail["field"] == loc
    stored = json.dumps([event.query, event.detail, event.path], ensure_ascii=False)
    assert NUL not in stored
    where, _, query = path.partition("?")
    if "%00" in query:
        assert NUL_MARK in json.dumps(event.query, ensure_ascii=False)
    if "%00" in where:
        assert NUL_MARK in event.path
    # The connection is still good: an unrelated call answers at once.
    ok = world.client(Role.VIEWER).get("/api/v1/studies/search?q=SEC0001")
    assert ok.status_code == HTTPStatus.OK
    assert ok.json()["total"] == 1


def test_q_nul_no_longer_matches_every_study(world):
    response = world.client(Role.VIEWER).get("/api/v1/studies/search", {"q": NUL})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY


@pytest.mark.parametrize(
    ("body", "content_type", "loc"),
    [
        (
            {"username": "sec_admin\u0000", "password": "x"},
            "application/json",
            ["body", "username"],
        ),
        ({"username": "sec_admin", "password": "\u0000"}, "application/json", ["body", "password"]),
        ({"username": "a\u0000", "password": "x"}, "form", ["form", "username"]),
    ],
)
def test_a_nul_at_login_is_a_422_and_the_attempt_is_audited(world, body, content_type, loc):
    client = Client()
    if content_type == "form":
        response = client.post("/api/v1/auth/login", body)
    else:
        response = client.post("/api/v1/auth/login", json.dumps(body), content_type=content_type)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["loc"] == loc
    (event,) = _refusals()
    assert event.path == "/api/v1/auth/login"
    assert event.user_id is None
    # And the right password still works from the same address.
    ok = client.post(
        "/api/v1/auth/login",
        {"username": "sec_admin", "password": "correct-horse-battery-9"},
        content_type="application/json",
    )
    assert ok.status_code == HTTPStatus.OK


def test_a_nul_in_an_import_form_field_is_a_422_and_no_batch(world):
    client = world.client(Role.ADMIN)
    batches = ImportBatch.objects.count()

    field = client.post(
        "/api/v1/import/studies", {"file": tiny_csv("SECN0001"), "on_duplicate": "skip\x00"}
    )
    reports = client.post("/api/v1/import/reports?dry_run=%00", {"file": tiny_csv("SECN0002")})

    assert field.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert field.json()["detail"][0]["loc"] == ["form", "on_duplicate"]
    assert reports.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert reports.json()["detail"][0]["loc"] == ["query", "dry_run"]
    assert ImportBatch.objects.count() == batches
    assert len(_refusals()) == 2


def test_a_nul_in_a_cookie_is_refused_without_reading_the_session(world):
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00"
    response = client.get("/studies/")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    (event,) = _refusals()
    assert event.detail["field"] == ["cookie", "sessionid"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/studies/?q=%00", "q"),
        ("/studies/?date_from=2025-01-01&exam_status=%00", "exam_status"),
        ("/studies/export/?q=%00", "q"),
        ("/studies/SEC0001%00/", "path"),
        ("/reports/?q=%00", "q"),
        ("/reports/?patient_name=%00", "patient_name"),
        ("/reports/export/?patient_name=%00", "patient_name"),
        ("/reports/RSEC0001%00/", "path"),
        ("/dashboard/?end=%00", "end"),
        ("/analysis/?exam_id=%00", "exam_id"),
    ],
)
def test_a_nul_on_a_web_page_is_a_400_page_and_is_audited(world, path, field):
    client = Client()
    client.force_login(world.users[Role.ADMIN])

    response = client.get(path)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"].startswith("text/html")
    assert f"The field “{field}” contains a NUL character" in response.content.decode()
    (event,) = _refusals()
    assert (event.username, event.status_code) == ("sec_admin", 400)
    assert client.get("/studies/?q=SEC0001").status_code == HTTPStatus.OK


def test_a_nul_in_the_web_login_form_is_a_400_page(world):
    client = Client()
    response = client.post("/login/", {"username": "sec_admin\x00", "password": "x"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    (event,) = _refusals()
    assert event.detail["field"] == ["form", "username"]


def test_another_api_can_choose_its_own_answer_to_a_nul(world):
    """The practice contract under /api/ answers 400 {"message"}: it registers its answer."""

    def practice(request: HttpRequest, field: NulField) -> JsonResponse:
        return JsonResponse({"message": f"bad {field.label}"}, status=400)

    answer_nul("/api/demo/")(practice)
    try:
        response = Client().get("/api/demo/anything?name=%00")
        v1 = world.client(Role.VIEWER).get("/api/v1/studies/search?q=%00")
    finally:
        from core import badinput

        del badinput._ANSWERS["/api/demo/"]

    assert (response.status_code, response.json()) == (400, {"message": "bad name"})
    assert v1.status_code == HTTPStatus.UNPROCESSABLE_ENTITY


def test_first_nul_field_walks_nested_json(rf):
    body = json.dumps({"a": [1, {"b": "ok"}, {"c": ["x", "y\u0000"]}]})
    request = rf.post("/x", body, content_type="application/json")

    assert first_nul_field(request) == NulField("body", ("a", 2, "c", 1))


def test_clean_input_is_untouched(rf):
    body = json.dumps({"q": "\\u0000 as text is not a NUL"})
    request = rf.post("/x?q=%E5%BC%A0", body, content_type="application/json")

    assert first_nul_field(request) is None


def test_a_fresh_process_answers_its_first_request_in_the_api_shape():
    """The answers are registered by the URLconf's imports; a new worker whose very first
    request carries a NUL must not fall back to the default answer."""
    script = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "from core.badinput import first_nul_field, nul_answer\n"
        "r = RequestFactory().get('/api/v1/studies/search?q=%00')\n"
        "print(nul_answer(r, first_nul_field(r)).status_code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert done.stdout.strip() == "422"
