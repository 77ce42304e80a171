"""Forged and spent tokens are refused; parallel refreshes of one token let exactly one through.

Figure: forged variants accepted = 0 (each tried on two endpoints); old tokens after logout
and after rotation refused; 20 parallel refreshes → exactly 1 succeeds; a deactivated user is
refused on the next request.
"""

import threading
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from accounts.models import AuthSession, Role
from bench.reliability.policy import forged_tokens
from tests.conftest import login

PROBES = ["/api/v1/auth/me", "/api/v1/studies/search"]


def bearer(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.django_db
def test_forged_tokens_are_all_refused(world):
    viewer = world.tokens[Role.VIEWER]
    forgeries = list(
        forged_tokens(
            access=viewer["access"],
            refresh=viewer["refresh"],
            jwt_key=settings.JWT_SECRET_KEY,
            secret_key=settings.SECRET_KEY,
            other_user_id=world.users[Role.ADMIN].pk,
        )
    )
    assert len(forgeries) >= 25
    accepted = [
        (name, path, status)
        for name, token in forgeries
        for path in PROBES
        if (status := bearer(token).get(path).status_code) != HTTPStatus.UNAUTHORIZED
    ]
    assert accepted == []
    # The real token still works: the refusals above are not an artefact of a broken setup.
    assert bearer(viewer["access"]).get(PROBES[0]).status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_the_signing_key_is_its_own_secret():
    assert settings.JWT_SECRET_KEY
    assert settings.JWT_SECRET_KEY != settings.SECRET_KEY


@pytest.mark.django_db
def test_tokens_of_a_login_are_refused_after_logout(world):
    tokens = world.fresh_tokens(Role.VIEWER)
    assert bearer(tokens["access"]).post("/api/v1/auth/logout").status_code == HTTPStatus.OK
    assert bearer(tokens["access"]).get(PROBES[0]).status_code == HTTPStatus.UNAUTHORIZED
    refreshed = Client().post(
        "/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert refreshed.status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.django_db
def test_a_rotated_refresh_token_is_spent_and_its_reuse_ends_the_login(world):
    tokens = world.fresh_tokens(Role.VIEWER)
    first = Client().post(
        "/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert first.status_code == HTTPStatus.OK
    again = Client().post(
        "/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert again.status_code == HTTPStatus.UNAUTHORIZED
    # Within the grace window that is a concurrent refresh: the login lives on.
    assert bearer(first.json()["access"]).get(PROBES[0]).status_code == HTTPStatus.OK
    # Later, reuse of the spent token means it was copied: the whole login is ended.
    AuthSession.objects.update(rotated_at=timezone.now() - timedelta(minutes=5))
    late = Client().post(
        "/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert late.status_code == HTTPStatus.UNAUTHORIZED
    assert bearer(first.json()["access"]).get(PROBES[0]).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.django_db
def test_a_deactivated_user_is_refused_on_the_next_request(world):
    tokens = world.fresh_tokens(Role.ANALYST)
    assert bearer(tokens["access"]).get(PROBES[1]).status_code == HTTPStatus.OK
    user = world.users[Role.ANALYST]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert bearer(tokens["access"]).get(PROBES[1]).status_code == HTTPStatus.UNAUTHORIZED
    refreshed = Client().post(
        "/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert refreshed.status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_refreshes_of_one_token_let_exactly_one_through(make_user):
    """Real threads, each with its own database connection, released together."""
    user = make_user(Role.VIEWER)
    refresh = login(Client(), user.username)["refresh"]
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            barrier.wait(timeout=30)
            response = Client().post(
                "/api/v1/auth/refresh", {"refresh": refresh}, content_type="application/json"
            )
            with lock:
                statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(statuses) == [200] + [401] * 19
    # The losers raced the winner within the grace window: the winner keeps the login.
    assert AuthSession.objects.filter(user=user, revoked_at__isnull=True).count() == 1
