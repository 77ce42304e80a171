"""Bearer tokens on the Flask contract: the product's access tokens, with practice roles."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from accounts.auth import session_from_access_token
from accounts.models import Role, User
from core.errors import Forbidden


class PracticeAuth(HttpBearer):
    """401 without a valid token; 403 below ``minimum_role`` in the practice area (a viewer or
    analyst has no practice role at all; an admin has every one)."""

    def __init__(self, minimum_role: str = Role.LEARNER) -> None:
        super().__init__()
        self.minimum_role = minimum_role

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user, _versions = session_from_access_token(token)
        if user is None:
            return None
        # Set before the role check so that a refused call is still audited under its user.
        request.auth = user
        if not user.has_role(self.minimum_role):
            raise Forbidden("Your role does not allow this action")
        return user


learner_auth = PracticeAuth(Role.LEARNER)
instructor_auth = PracticeAuth(Role.INSTRUCTOR)
