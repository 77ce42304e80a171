"""Issue 20 item 5: a Content-Security-Policy on every answer, strict for the product's pages
(no inline script or style, no eval), and pages that need nothing more (that Chromium reports
no violation on them: tests/browser, whose page fixture fails on any)."""

import re

import pytest
from django.test import Client

from accounts.models import Role
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, list[str]]:
    parts = (d.split() for d in header.split(";") if d.strip())
    return {name: values for name, *values in parts}


@pytest.fixture
def signed_in(make_user):
    client = Client()
    client.force_login(make_user(Role.ADMIN, is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "path",
    ["/login/", "/studies/", "/studies/CSP1/", "/reports/", "/analysis/", "/dashboard/",
     "/import/", "/no/such/page/", "/api/v1/docs", "/api/v1/health", "/api/v1/studies/search"],
)  # fmt: skip
def test_every_page_sends_the_strict_policy(signed_in, path):
    StudyFactory(exam_id="CSP1")
    response = signed_in.get(path)
    assert response.status_code in (200, 302, 401, 404)
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]


def test_the_admin_allows_inline_styles_but_never_inline_scripts(signed_in):
    for path in ("/admin/login/", "/admin/", "/admin/studies/study/"):
        policy = directives(signed_in.get(path)["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'", "'unsafe-inline'"]


def test_the_product_pages_carry_no_inline_script_or_style(signed_in):
    StudyFactory(exam_id="CSP1")
    for path in ("/login/", "/studies/", "/studies/CSP1/", "/dashboard/", "/analysis/"):
        html = signed_in.get(path).content.decode()
        scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert [s for s in scripts if "application/json" not in s] == [], path
        assert re.findall(r"<style\b|\sstyle=\"|\son[a-z]+=\"", html) == [], path
