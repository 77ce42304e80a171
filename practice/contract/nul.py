"""A NUL byte anywhere in the input is a 400 (SPEC-practice §4): PostgreSQL text cannot hold
one, and nothing the frontend sends has one. Checked before authentication and parsing, on the
raw query string and body, and inside JSON strings (``\\u0000``) and keys."""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, JsonResponse

NUL_IN_INPUT = "The request contains a NUL byte"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def request_has_nul(request: HttpRequest) -> bool:
    if b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
        return True
    body = request.body
    if b"\x00" in body:
        return True
    if b"\\u0000" not in body:
        return False
    try:
        return _has_nul(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        return False  # not JSON: the parser refuses it on its own


def reject_nul(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A router decorator (mode "view": around the whole operation, before auth)."""

    @wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request_has_nul(request):
            return JsonResponse({"message": NUL_IN_INPUT}, status=400)
        return run(request, *args, **kwargs)

    return checked
