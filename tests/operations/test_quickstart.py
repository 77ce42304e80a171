"""The quick start loads data and a demo admin; the warm-up command prepares the first searches."""

import re
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.test import Client

from reports.models import Report
from studies.models import Study
from tests.factories import ReportFactory, StudyFactory


@pytest.mark.django_db
def test_quickstart_loads_sample_data_and_prints_a_working_demo_login(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("quickstart", studies=120)
    out = capsys.readouterr().out
    assert Study.objects.count() == 120
    assert Report.objects.count() > 50
    password = out.split("password: ")[1].split()[0]
    response = Client().post(
        "/api/v1/auth/login",
        {"username": "admin", "password": password},
        content_type="application/json",
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["user"]["role"] == "admin"
    # Run again: data kept, password renewed.
    call_command("quickstart", studies=120)
    out = capsys.readouterr().out
    assert "already holds 120 studies" in out
    assert out.split("password: ")[1].split()[0] != password


@pytest.mark.django_db
def test_warm_caches_prepares_the_answers_of_both_searches_and_says_how_many(capsys):
    ReportFactory(study=StudyFactory())
    call_command("warm_caches")
    out = capsys.readouterr().out
    found = re.fullmatch(r"Prepared (\d+) study answers and (\d+) report answers\.\n", out)
    assert found, out
    assert int(found[1]) > 0
    assert int(found[2]) > 0
