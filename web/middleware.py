"""Automatic logoff of browser sessions after WEB_IDLE_TIMEOUT_MINUTES without activity."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from accounts.services import session_logout

LAST_ACTIVITY = "web_last_activity"
# Requests a page makes by itself (htmx polling of task progress) carry this header: they keep
# the page current but are not the user's activity, so a page left open still logs off.
BACKGROUND_HEADER = "HTTP_X_BACKGROUND_REQUEST"


def idle_timeout_seconds() -> float:
    return settings.WEB_IDLE_TIMEOUT_MINUTES * 60


def idle_seconds_left(request: HttpRequest) -> float:
    """How long the signed-in session of ``request`` has before its automatic sign-out."""
    last = request.session.get(LAST_ACTIVITY, time.time())
    return max(0.0, idle_timeout_seconds() - (time.time() - last))


class IdleTimeoutMiddleware:
    """Log a session out once it has been idle for longer than the timeout.

    Django's session expiry alone would not do: every request, background polling included,
    renews it (SESSION_SAVE_EVERY_REQUEST). Applies to the session logins of the web UI and
    the admin; the API (bearer tokens, their own lifetime) is left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(("/api/", "/static/")):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        now = time.time()
        last = request.session.get(LAST_ACTIVITY, now)
        if now - last > idle_timeout_seconds():
            session_logout(request=request, reason="idle")
            minutes = f"{settings.WEB_IDLE_TIMEOUT_MINUTES:g}"
            messages.info(
                request,
                _("You were signed out after %(minutes)s minutes without activity.")
                % {"minutes": minutes},
            )
            htmx = getattr(request, "htmx", None)
            if htmx:
                # A fragment request: send the whole page to the login form.
                next_url = htmx.current_url_abs_path or request.get_full_path()
                return HttpResponseClientRedirect(redirect_to_login(next_url).url)
            return redirect_to_login(request.get_full_path())
        if BACKGROUND_HEADER not in request.META:
            request.session[LAST_ACTIVITY] = now
        return self.get_response(request)
