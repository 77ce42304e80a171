from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import Role


@pytest.fixture
def signed_in(make_user) -> Callable[..., Client]:
    """A browser-like test client with a session login of a new user of the given role."""

    def make(role: str = Role.VIEWER, **kwargs) -> Client:
        user = make_user(role=role, **kwargs)
        client = Client()
        client.force_login(user)
        client.user = user
        return client

    return make


@pytest.fixture
def viewer_web(signed_in) -> Client:
    return signed_in(Role.VIEWER)


@pytest.fixture
def analyst_web(signed_in) -> Client:
    return signed_in(Role.ANALYST)


@pytest.fixture
def admin_web(signed_in) -> Client:
    return signed_in(Role.ADMIN)
