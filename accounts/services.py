"""Login, token refresh and logout, with a lockout keyed by username and address together;
and the changes of a user's credentials or rights, which end that user's logins."""

import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.models import update_last_login
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts import tokens
from accounts.models import AuthSession, LoginFailure, User
from audit.services import audit_record
from core.errors import NotAuthenticated, TooManyRequests
from core.middleware import client_ip

INVALID_CREDENTIALS = "Invalid username or password"
INVALID_REFRESH = "Invalid or expired refresh token"


@dataclass
class TokenPair:
    access: str
    refresh: str
    expires_in: int
    user: User


def _lockout_window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _check_lockout(username: str, ip: str | None) -> None:
    since = timezone.now() - _lockout_window()
    recent = LoginFailure.objects.filter(
        username=username.lower(), ip_address=ip, failed_at__gt=since
    ).order_by("-failed_at")[: settings.LOGIN_MAX_FAILURES]
    stamps = [f.failed_at for f in recent]
    if len(stamps) >= settings.LOGIN_MAX_FAILURES:
        unlock_at = stamps[-1] + _lockout_window()
        retry_after = max(1, math.ceil((unlock_at - timezone.now()).total_seconds()))
        raise TooManyRequests(
            f"Too many failed login attempts; try again in {math.ceil(retry_after / 60)} minute(s)",
            retry_after=retry_after,
        )


def _issue(user: User, *, request: HttpRequest) -> TokenPair:
    now = timezone.now()
    access_life = timedelta(hours=settings.JWT_EXPIRATION_HOURS)
    refresh_life = timedelta(hours=settings.JWT_REFRESH_EXPIRATION_HOURS)
    session = AuthSession.objects.create(
        sid=tokens.new_jti(),
        user=user,
        refresh_jti=tokens.new_jti(),
        expires_at=now + max(access_life, refresh_life),
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )
    return _pair(session, user, now=now)


def _pair(session: AuthSession, user: User, *, now) -> TokenPair:
    access_life = timedelta(hours=settings.JWT_EXPIRATION_HOURS)
    refresh_life = timedelta(hours=settings.JWT_REFRESH_EXPIRATION_HOURS)
    access = tokens.encode(
        user_id=user.pk,
        sid=session.sid,
        jti=tokens.new_jti(),
        kind=tokens.ACCESS,
        issued=now,
        lifetime=access_life,
    )
    refresh = tokens.encode(
        user_id=user.pk,
        sid=session.sid,
        jti=session.refresh_jti,
        kind=tokens.REFRESH,
        issued=now,
        lifetime=refresh_life,
    )
    return TokenPair(
        access=access, refresh=refresh, expires_in=int(access_life.total_seconds()), user=user
    )


def verified_user(
    *, request: HttpRequest, username: str, password: str, detail: dict | None = None
) -> User:
    """The user behind valid credentials, under the lockout; every failure is counted and
    audited and answers one message, so usernames don't leak. The one check of every way in
    (the API, the web UI and the admin), whose failures therefore count together."""
    ip = client_ip(request)
    _check_lockout(username, ip)
    user = authenticate(request, username=username, password=password)
    if user is None:
        LoginFailure.objects.create(username=username.lower()[:150], ip_address=ip)
        audit_record(
            action="auth.login_failed",
            outcome="failure",
            username=username,
            request=request,
            status_code=401,
            detail=detail,
        )
        raise NotAuthenticated(INVALID_CREDENTIALS)
    LoginFailure.objects.filter(username=username.lower(), ip_address=ip).delete()
    return user


def login(*, request: HttpRequest, username: str, password: str) -> TokenPair:
    """Tokens for valid credentials."""
    user = verified_user(request=request, username=username, password=password)
    with transaction.atomic():
        update_last_login(None, user)
        pair = _issue(user, request=request)
        audit_record(
            action="auth.login", outcome="success", user=user, request=request, status_code=200
        )
    return pair


def refresh(*, request: HttpRequest, refresh_token: str) -> TokenPair:
    """Rotate: the presented refresh token is spent, a new pair is issued for the same login.

    Presenting an already-spent refresh token means it was copied: the whole login is ended.
    The one exception is the token spent by the latest rotation, presented again within
    JWT_REFRESH_REUSE_GRACE_SECONDS: clients that refresh from two tabs at once do that, and
    they get a 401 without losing the login.
    """
    claims = tokens.decode(refresh_token, kind=tokens.REFRESH)
    if claims is None:
        raise NotAuthenticated(INVALID_REFRESH)
    now = timezone.now()
    rotated = AuthSession.objects.filter(
        sid=claims["sid"], refresh_jti=claims["jti"], revoked_at__isnull=True, expires_at__gt=now
    ).update(refresh_jti=tokens.new_jti(), previous_refresh_jti=claims["jti"], rotated_at=now)
    session = AuthSession.objects.select_related("user").filter(sid=claims["sid"]).first()
    if rotated != 1 or session is None or not session.user.is_active:
        concurrent = (
            session is not None
            and session.user.is_active
            and session.revoked_at is None
            and session.previous_refresh_jti == claims["jti"]
            and session.rotated_at is not None
            and (now - session.rotated_at).total_seconds()
            <= settings.JWT_REFRESH_REUSE_GRACE_SECONDS
        )
        if not concurrent:
            AuthSession.objects.filter(sid=claims["sid"], revoked_at__isnull=True).update(
                revoked_at=now
            )
        audit_record(
            action="auth.refresh_rejected",
            outcome="denied",
            user=session.user if session else None,
            request=request,
            status_code=401,
            detail={"reason": "concurrent refresh" if concurrent else "spent or invalid token"},
        )
        raise NotAuthenticated(INVALID_REFRESH)
    audit_record(
        action="auth.refresh",
        outcome="success",
        user=session.user,
        request=request,
        status_code=200,
    )
    return _pair(session, session.user, now=now)


def logout(*, user: User, refresh_token: str | None = None) -> None:
    """End the login of the access token used (and of the refresh token, if another login's)."""
    now = timezone.now()
    sids = {getattr(user, "auth_session_id", None)}
    if refresh_token:
        claims = tokens.decode(refresh_token, kind=tokens.REFRESH)
        if claims is not None and claims["sub"] == str(user.pk):
            sids.add(claims["sid"])
    AuthSession.objects.filter(sid__in=[s for s in sids if s], revoked_at__isnull=True).update(
        revoked_at=now
    )


# ---------------------------------------------------------------- web UI (browser session)
# The web UI signs in with Django's session instead of tokens, under the same lockout (same
# LoginFailure rows, so failures through the API and the web UI count together) and with the
# same audit events.


def session_login(*, request: HttpRequest, username: str, password: str) -> User:
    """Sign this browser session in; TooManyRequests while locked out, else NotAuthenticated
    with the one message for every bad credential."""
    user = verified_user(
        request=request, username=username, password=password, detail={"via": "web"}
    )
    with transaction.atomic():
        # Rotates the session key and the CSRF token; the user_logged_in signal sets last_login.
        auth_login(request, user)
        login_recorded(request=request, user=user, via="web")
    return user


def session_logout(*, request: HttpRequest, reason: str = "user") -> None:
    """End this browser session (``reason``: ``user``, or ``idle`` for the automatic logoff)."""
    user = getattr(request, "user", None)
    auth_logout(request)
    if user is not None and user.is_authenticated:
        audit_record(
            action="auth.logout",
            outcome="success",
            user=user,
            request=request,
            detail={"via": "web", "reason": reason},
        )


def login_recorded(*, request: HttpRequest, user: User, via: str) -> None:
    """Audit a sign-in whose credentials ``verified_user`` accepted, by the door it came
    through (``via``): the web UI's, the practice contract's, or the admin's login view (its
    form checks the credentials, this records the sign-in)."""
    audit_record(
        action="auth.login",
        outcome="success",
        user=user,
        request=request,
        status_code=200,
        detail={"via": via},
    )


# ---------------------------------------------------------------- credentials and rights
# A password set, a role change or a deactivation ends the user's logins at once, whichever
# door it came through (the admin, manage.py changepassword). A hash upgraded while logging in
# is not a password change and goes nowhere near these.

# The fields of a user that grant access; a change of any of them is an audit event.
RIGHTS_FIELDS = ("role", "is_active", "is_staff", "is_superuser", "groups", "user_permissions")
# Those whose change also ends the user's logins (the issue: password, role, deactivation; a
# change of admin-site powers is as much a change of role).
LOGIN_ENDING_FIELDS = ("role", "is_active", "is_staff", "is_superuser")


def user_logins_end(*, user: User) -> int:
    """End every login of ``user`` now: its API logins are revoked (access and refresh tokens
    fail at their next use) and its browser sessions fail their next request (the session is
    bound to ``login_generation``). Returns the number of API logins ended."""
    revoked = AuthSession.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    User.objects.filter(pk=user.pk).update(login_generation=F("login_generation") + 1)
    user.refresh_from_db(fields=["login_generation"])
    return revoked


def _actor_fields(actor: User | None, via: str) -> dict:
    # Outside a request (a command) there is no signed-in actor: the trail names the door.
    return {"user": actor} if actor is not None else {"username": f"({via})"}


@transaction.atomic
def user_password_changed(
    *, user: User, actor: User | None, request: HttpRequest | None = None, via: str
) -> None:
    """After ``user``'s password was set (by ``actor``, through ``via``): end their logins,
    and audit it."""
    ended = user_logins_end(user=user)
    audit_record(
        action="user.password_changed",
        outcome="success",
        request=request,
        object_type="user",
        object_ids=[user.pk],
        detail={"target": user.get_username(), "via": via, "api_logins_ended": ended},
        **_actor_fields(actor, via),
    )


@transaction.atomic
def user_set_password(
    *, user: User, password: str, actor: User | None, request: HttpRequest | None = None, via: str
) -> None:
    """Set ``user``'s password; their logins end (``user_password_changed``)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    user_password_changed(user=user, actor=actor, request=request, via=via)


@transaction.atomic
def user_rights_changed(
    *,
    user: User,
    changes: dict[str, list],
    actor: User | None,
    request: HttpRequest | None = None,
    via: str,
    created: bool = False,
) -> None:
    """After ``user``'s rights changed (``changes``: field -> [before, after]): audit it, and
    end their logins when the role, activity or admin powers changed."""
    changes = {k: v for k, v in changes.items() if k in RIGHTS_FIELDS}
    if not changes:
        return
    ended = 0
    if not created and any(field in changes for field in LOGIN_ENDING_FIELDS):
        ended = user_logins_end(user=user)
    audit_record(
        action="user.created" if created else "user.rights_changed",
        outcome="success",
        request=request,
        object_type="user",
        object_ids=[user.pk],
        detail={
            "target": user.get_username(),
            "via": via,
            "changes": changes,
            "api_logins_ended": ended,
        },
        **_actor_fields(actor, via),
    )
