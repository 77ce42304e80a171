"""Login lockout keyed by username and address together, with a real cool-off.

tests/accounts/test_auth.py covers the single rules; this is the whole scenario in real
time, plus the ways around it that must not work (case variants, a forged X-Forwarded-For).
"""

import time
from http import HTTPStatus

import pytest
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/auth/login"


def attempt(username: str, password: str, ip: str = "10.9.0.1", **headers: str) -> int:
    client = Client(REMOTE_ADDR=ip, **headers)
    body = {"username": username, "password": password}
    return client.post(LOGIN, body, content_type="application/json").status_code


def test_lockout_scenario_with_a_real_cool_off(make_user, settings):
    settings.LOGIN_MAX_FAILURES = 3
    settings.LOGIN_LOCKOUT_MINUTES = 0.03  # 1.8 s
    clumsy, colleague = make_user(), make_user()
    assert [attempt(clumsy.username, "wrong") for _ in range(3)] == [401] * 3
    locked_at = time.monotonic()
    assert attempt(clumsy.username, PASSWORD) == HTTPStatus.TOO_MANY_REQUESTS
    # The colleague behind the same address, and the same user elsewhere, are not locked.
    assert attempt(colleague.username, PASSWORD) == HTTPStatus.OK
    assert attempt(clumsy.username, PASSWORD, ip="10.9.0.2") == HTTPStatus.OK
    # Case variants of the name share the counter.
    assert attempt(clumsy.username.upper(), PASSWORD) == HTTPStatus.TOO_MANY_REQUESTS
    # A client-set X-Forwarded-For is not trusted without a known proxy.
    forged = attempt(clumsy.username, PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert forged == HTTPStatus.TOO_MANY_REQUESTS
    time.sleep(max(0.0, locked_at + 1.8 + 0.3 - time.monotonic()))
    assert attempt(clumsy.username, PASSWORD) == HTTPStatus.OK


def test_unknown_usernames_lock_the_same_way(db, settings):
    settings.LOGIN_MAX_FAILURES = 2
    assert [attempt("nobody-here", "x") for _ in range(2)] == [401, 401]
    assert attempt("nobody-here", "x") == HTTPStatus.TOO_MANY_REQUESTS
