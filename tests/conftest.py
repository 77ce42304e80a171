from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import Role, User
from tests.factories import PASSWORD, UserFactory

# The fixtures that start the product's worker processes: a test that uses one is slow.
_PROCESS_FIXTURES = {"practice_workers", "analysis_worker"}
_BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


@pytest.hookimpl(tryfirst=True)  # before -m selects by the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what scripts/test.sh --fast leaves out, whatever the test module declares."""
    for item in items:
        if item.path.is_relative_to(_BROWSER_TESTS):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
        if _PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # A test database flush resets the data versions that cached answers are keyed by.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(role: str = Role.VIEWER, **kwargs) -> User:
        return UserFactory(role=role, **kwargs)

    return make


def login(client: Client, username: str, password: str = PASSWORD) -> dict:
    response = client.post(
        "/api/v1/auth/login",
        {"username": username, "password": password},
        content_type="application/json",
    )
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


@pytest.fixture
def api(make_user) -> Callable[..., Client]:
    """A test client logged in (bearer token) with the given role."""

    def make(role: str = Role.VIEWER, **kwargs) -> Client:
        user = make_user(role=role, **kwargs)
        tokens = login(Client(), user.username)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        client.user = user
        client.tokens = tokens
        return client

    return make


@pytest.fixture
def viewer(api) -> Client:
    return api(Role.VIEWER)


@pytest.fixture
def admin_client(api) -> Client:
    return api(Role.ADMIN)
