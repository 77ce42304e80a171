"""Bearer-token authentication for the API, with a minimum role per router."""

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from accounts import tokens
from accounts.models import AuthSession, Role, User
from core.errors import Forbidden


def user_from_access_token(token: str) -> User | None:
    """The active user behind a valid access token of a login that has not been ended."""
    claims = tokens.decode(token, kind=tokens.ACCESS)
    if claims is None:
        return None
    session = (
        AuthSession.objects.select_related("user")
        .filter(sid=claims["sid"], revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if session is None or str(session.user_id) != claims["sub"] or not session.user.is_active:
        return None
    user = session.user
    user.auth_session_id = session.sid
    return user


class JWTAuth(HttpBearer):
    """401 without a valid token; 403 when the user's role is below ``minimum_role``."""

    def __init__(self, minimum_role: str = Role.VIEWER) -> None:
        super().__init__()
        self.minimum_role = minimum_role

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_from_access_token(token)
        if user is None:
            return None
        # Set before the role check so that a refused call is still audited under its user.
        request.auth = user
        if not user.has_role(self.minimum_role):
            raise Forbidden(f"This action requires the {self.minimum_role} role")
        return user


viewer_auth = JWTAuth(Role.VIEWER)
analyst_auth = JWTAuth(Role.ANALYST)
admin_auth = JWTAuth(Role.ADMIN)
