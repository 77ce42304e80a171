"""Dates at the edges of the calendar (issue 20, item 7).

``date_to=9999-12-31`` was a 500 on the studies and reports searches, exports and pages (the
day after it does not exist), and so was ``/dashboard/?end=0001-01-01`` (its window started
before year 1); ``0001-01-01`` east of UTC is an instant before ``datetime.min``. Any date the
API accepts is now answered, with the right rows, in any time zone, on both databases.
"""

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import Role
from reports.models import Report
from studies.models import Study

ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "Pacific/Kiritimati", "Etc/GMT+12"]
# (date_from, date_to, whether the world's records match)
RANGES = [
    ("0001-01-01", "9999-12-31", True),
    (None, "9999-12-31", True),
    ("0001-01-01", None, True),
    ("9999-12-31", "9999-12-31", False),
    ("0001-01-01", "0001-01-01", False),
    ("9999-12-31", None, False),
    (None, "0001-01-01", False),
]


def _query(date_from: str | None, date_to: str | None, **extra: str) -> dict:
    query = {"date_from": date_from, "date_to": date_to, **extra}
    return {k: v for k, v in query.items() if v is not None}


@pytest.fixture
def zone(request, settings) -> str:
    settings.TIME_ZONE = request.param
    return request.param


@pytest.mark.parametrize("zone", ZONES, indirect=True)
@pytest.mark.parametrize(("date_from", "date_to", "matches"), RANGES)
def test_api_searches_answer_every_date_at_the_edges(world, zone, date_from, date_to, matches):
    client = world.client(Role.VIEWER)

    studies = client.get("/api/v1/studies/search", _query(date_from, date_to))
    reports = client.get("/api/v1/reports/search", _query(date_from, date_to))

    assert studies.status_code == HTTPStatus.OK, studies.content
    assert reports.status_code == HTTPStatus.OK, reports.content
    assert studies.json()["total"] == (Study.objects.count() if matches else 0)
    assert reports.json()["total"] == (Report.objects.count() if matches else 0)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Etc/GMT+12"], indirect=True)
@pytest.mark.parametrize("export_format", ["xlsx", "csv"])
@pytest.mark.parametrize(("date_from", "date_to", "matches"), RANGES[:2] + RANGES[3:5])
def test_api_exports_answer_every_date_at_the_edges(
    world, zone, export_format, date_from, date_to, matches
):
    response = world.client(Role.VIEWER).get(
        "/api/v1/studies/export", _query(date_from, date_to, format=export_format)
    )

    assert response.status_code == HTTPStatus.OK
    body = b"".join(response.streaming_content)
    if export_format == "csv":
        assert (world.exam_id.encode() in body) is matches


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "Etc/GMT+12"], indirect=True)
@pytest.mark.parametrize(
    "path",
    [
        "/studies/?date_from=0001-01-01&date_to=9999-12-31",
        "/studies/?date_to=9999-12-31",
        "/studies/?date_from=9999-12-31",
        "/studies/export/?date_to=9999-12-31&format=csv",
        "/reports/?date_from=0001-01-01&date_to=9999-12-31",
        "/reports/?date_to=0001-01-01",
        "/dashboard/?end=0001-01-01",
        "/dashboard/?end=0001-01-01&days=7",
        "/dashboard/?end=9999-12-31",
        "/dashboard/?end=9999-12-31&days=90",
    ],
)
def test_web_pages_answer_every_date_at_the_edges(world, zone, path):
    client = Client()
    client.force_login(world.users[Role.ADMIN])

    response = client.get(path)

    assert response.status_code == HTTPStatus.OK
    if "date_from=0001-01-01&date_to=9999-12-31" in path and path.startswith("/studies/?"):
        assert world.exam_id in response.content.decode()
