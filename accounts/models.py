"""Users, their roles, and the server-side state that makes JWT logout real."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer (read)"
    ANALYST = "analyst", "Analyst (read + run analysis)"
    ADMIN = "admin", "Admin (everything)"
    # The practice area's roles (SPEC-practice §2): they see nothing of the imaging platform.
    LEARNER = "learner", "Learner (practice)"
    INSTRUCTOR = "instructor", "Instructor (practice authoring)"


# Imaging ranks; the practice roles have none, so every imaging minimum refuses them.
ROLE_RANK = {Role.VIEWER: 0, Role.ANALYST: 1, Role.ADMIN: 2}
# Practice ranks; the imaging roles below admin have none there.
PRACTICE_RANK = {Role.LEARNER: 0, Role.INSTRUCTOR: 1, Role.ADMIN: 2}
PRACTICE_ROLES = (Role.LEARNER, Role.INSTRUCTOR)


class User(AbstractUser):
    """A member of the department. A superuser is always an admin."""

    email = models.EmailField("email address", unique=True)
    phone = models.CharField(max_length=20, blank=True)
    department = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    # Raised by accounts.services.user_logins_end (a password set, a role change, a
    # deactivation): every browser session signed in before it fails its next request.
    login_generation = models.PositiveIntegerField(default=0, editable=False)

    REQUIRED_FIELDS = ["email"]

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """What a browser session is bound to (Django checks it on every request): the
        login generation, not the password hash, so that a hash upgraded on login (a stronger
        hasher, the Flask users' hashes) does not sign the user out, and an explicit change
        of password, role or activity does (accounts.services.user_logins_end)."""
        return salted_hmac(
            "accounts.User.session",
            f"{self.pk}:{self.login_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def effective_role(self) -> str:
        return Role.ADMIN if self.is_superuser else self.role

    def has_role(self, minimum: str) -> bool:
        """At least ``minimum`` in the area ``minimum`` belongs to (imaging or practice)."""
        ranks = PRACTICE_RANK if minimum in PRACTICE_ROLES else ROLE_RANK
        rank = ranks.get(self.effective_role)
        return rank is not None and rank >= ranks[minimum]

    @property
    def is_practice_only(self) -> bool:
        """A learner or instructor: refused on every imaging endpoint and page."""
        return self.effective_role in PRACTICE_ROLES


class AuthSession(models.Model):
    """One login: its tokens live while this row is not revoked.

    ``refresh_jti`` is the only refresh token of the login that may still be used; rotating it
    is a conditional UPDATE, so of many parallel refreshes of one token exactly one wins.
    """

    sid = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    refresh_jti = models.CharField(max_length=64)
    # The refresh token spent by the last rotation, and when: presenting it again within
    # JWT_REFRESH_REUSE_GRACE_SECONDS is a concurrent refresh (two tabs), not a stolen copy.
    previous_refresh_jti = models.CharField(max_length=64, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.sid[:8]}"


class LoginFailure(models.Model):
    """A failed login, counted per (username, address) for the lockout."""

    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    failed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["username", "ip_address", "failed_at"])]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip_address} at {self.failed_at}"
