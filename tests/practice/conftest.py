"""Shared fixtures of the practice tests (keep each small and named for its area)."""

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import Role

# Every caller of the contract's role matrix: None is anonymous (no token).
CONTRACT_ROLES = (None, Role.VIEWER, Role.ANALYST, Role.LEARNER, Role.INSTRUCTOR, Role.ADMIN)


@pytest.fixture
def contract_client(api) -> Callable[[str | None], Client]:  # noqa: ANN001
    """A client of the Flask contract for a role (bearer token of the product), or anonymous."""

    def make(role: str | None = Role.INSTRUCTOR, **kwargs) -> Client:  # noqa: ANN003
        if role is None:
            client = Client()
            client.user = None
            return client
        return api(role, **kwargs)

    return make
