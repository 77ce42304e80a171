"""Bearer-token authentication for the API, with a minimum role per router."""

import functools

from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from accounts import tokens
from accounts.models import AuthSession, Role, User
from core import rawsql
from core.cache import VERSIONED
from core.errors import Forbidden
from core.models import DataVersion


@functools.cache
def _session_user_sql() -> str:
    # Every API call runs this lookup: written once as SQL, it skips the ORM's per-call query
    # compilation, which cost more CPU than the query itself. It also reads the data versions
    # (core.cache), which the call's searches would otherwise read in a round trip of their own.
    quote = connection.ops.quote_name
    versions = ", ".join(
        f"(SELECT version FROM {quote(DataVersion._meta.db_table)} WHERE name = '{name}')"
        for name in VERSIONED
    )
    return (
        f"SELECT {rawsql.columns(User, 'u')}, {versions} FROM {quote(User._meta.db_table)} u "
        f"JOIN {quote(AuthSession._meta.db_table)} s ON s.user_id = u.id "
        "WHERE s.sid = %s AND s.revoked_at IS NULL AND s.expires_at > %s"
    )


def session_from_access_token(token: str) -> tuple[User | None, dict[str, int]]:
    """The active user behind a valid access token of a login that has not been ended, and
    the data versions read with it (empty without a user)."""
    claims = tokens.decode(token, kind=tokens.ACCESS)
    if claims is None:
        return None, {}
    with connection.cursor() as cursor:
        cursor.execute(_session_user_sql(), [claims["sid"], timezone.now()])
        row = cursor.fetchone()
    if row is None:
        return None, {}
    user = rawsql.instances(User, [row[: -len(VERSIONED)]])[0]
    if str(user.pk) != claims["sub"] or not user.is_active:
        return None, {}
    user.auth_session_id = claims["sid"]
    found = zip(VERSIONED, row[-len(VERSIONED) :], strict=True)
    return user, {name: version or 0 for name, version in found}


def user_from_access_token(token: str) -> User | None:
    """The active user behind a valid access token of a login that has not been ended."""
    return session_from_access_token(token)[0]


class JWTAuth(HttpBearer):
    """401 without a valid token; 403 when the user's role is below ``minimum_role``
    (``None``: any signed-in user, whatever the area of their role)."""

    def __init__(self, minimum_role: str | None = Role.VIEWER) -> None:
        super().__init__()
        self.minimum_role = minimum_role

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user, versions = session_from_access_token(token)
        if user is None:
            return None
        # The versions of this call's data, read at its start (core.cache.data_version).
        request.data_versions = versions
        # Set before the role check so that a refused call is still audited under its user.
        request.auth = user
        if self.minimum_role is not None and not user.has_role(self.minimum_role):
            raise Forbidden(f"This action requires the {self.minimum_role} role")
        return user


# Logout and "me" serve every role, the practice roles included (SPEC-practice §2).
signed_in_auth = JWTAuth(None)
viewer_auth = JWTAuth(Role.VIEWER)
analyst_auth = JWTAuth(Role.ANALYST)
admin_auth = JWTAuth(Role.ADMIN)
