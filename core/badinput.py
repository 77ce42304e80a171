"""Input no database can hold: a NUL character, refused before any view, session or query.

PostgreSQL's text types cannot store U+0000: a NUL that reached a query was a 500 (and could
leave the connection unusable), its audit record could not be written (JSONB refuses it too),
and on SQLite ``q=%00`` matched every study. So a NUL anywhere in a request — path, query
string, header, cookie, form or multipart field, JSON body — is
refused by ``RefuseNulMiddleware`` before anything else looks at the request, and the refusal
itself is audited (with a sanitised copy of the input).

How each part of the site answers is its own choice: ``first_nul_field`` finds the field and
``answer_nul(prefix)`` registers, for the paths under ``prefix``, a function that turns the
field into a response (the longest registered prefix wins). ``config/api.py`` answers the
``/api/v1/`` API with Django Ninja's validation shape (422, ``{"detail": [...]}``); an API with
another error contract registers its own, e.g. for the practice contract under ``/api/``::

    from core.badinput import NulField, answer_nul

    @answer_nul("/api/")
    def practice_nul(request: HttpRequest, field: NulField) -> HttpResponse:
        return JsonResponse({"message": f"{field.label} must not contain a NUL"}, status=400)

The web UI registers its HTML error page (400) for ``/``; paths under ``/api/`` that no API
registered get ``{"detail": ...}`` (400), and any other path a plain-text 400.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import get_resolver

NUL = "\x00"
# What the audit log stores in place of a NUL (the Unicode replacement character).
NUL_MARK = "\ufffd"

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class NulField:
    """Where the first NUL of a request is: ``source`` as Ninja names it, then the field."""

    source: str  # "path", "query", "header", "cookie", "form", "file" or "body"
    name: tuple[str | int, ...] = ()

    @property
    def loc(self) -> list[str | int]:
        """The field's location as in a Django Ninja validation error."""
        return [self.source, *self.name]

    @property
    def label(self) -> str:
        """The field's name for a message (``username``, ``filters.q``, ``path``)."""
        return ".".join(str(part) for part in self.name) or self.source


def without_nul(value: Any) -> Any:
    """A copy of ``value`` (str, list, tuple, dict; nested) with every NUL marked, for storage."""
    if isinstance(value, str):
        return value.replace(NUL, NUL_MARK) if NUL in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value


def _json_nul(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """The path of the first string (key or value) of parsed JSON that holds a NUL."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, path)]
    while stack:  # iterative: a deeply nested body must not exhaust the recursion limit
        item, where = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return where
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                if NUL in key:
                    return (*where, without_nul(key))
                children.append((child, (*where, key)))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(child, (*where, i)) for i, child in enumerate(item)]))
    return None


def _multidict_nul(values: Any) -> str | None:
    for key, items in values.lists():
        if NUL in key or any(isinstance(v, str) and NUL in v for v in items):
            return without_nul(key)
    return None


def _header_fields(request: HttpRequest) -> Iterator[tuple[str, str]]:
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            yield key[5:].lower().replace("_", "-"), value


def _largest_upload() -> int:
    return int(getattr(settings, "MAX_UPLOAD_MB", 50) * 1024 * 1024) + 64 * 1024


def first_nul_field(request: HttpRequest) -> NulField | None:
    """The first field of ``request`` that holds a NUL, or None.

    Headers and cookies come first, so that when another field is named the caller may still
    trust the credentials (the session cookie, the bearer token) to say who asked. A multipart
    body larger than the largest accepted upload is not read here: its view refuses it (413)
    from the declared length, without storing it.
    """
    for name, value in _header_fields(request):
        if NUL in value:
            return NulField("header", (name,))
    for name, value in request.COOKIES.items():
        if NUL in name or NUL in value:
            return NulField("cookie", (without_nul(name),))
    if NUL in request.path_info or NUL in request.path:
        return NulField("path")
    if (name := _multidict_nul(request.GET)) is not None:
        return NulField("query", (name,))
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    return _body_nul(request)


def _body_nul(request: HttpRequest) -> NulField | None:
    content_type = request.content_type or ""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if content_type in _FORMS:
        if content_type == "multipart/form-data" and declared > _largest_upload():
            return None
        try:
            if (name := _multidict_nul(request.POST)) is not None:
                return NulField("form", (name,))
            # (Django drops non-printable characters from uploaded file names itself.)
            for name in request.FILES:
                if NUL in name:
                    return NulField("file", (without_nul(name),))
        except (MultiPartParserError, ValueError, OSError):
            return None  # a body that does not parse is for the view to refuse
        return None
    if declared > _largest_upload():
        return None
    body = request.body
    if b"\x00" in body:
        # Raw NUL bytes: invalid in JSON and in any text; there is no field to name.
        return NulField("body")
    if b"\\u0000" not in body or "json" not in content_type:
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON at all: the API answers its own parse error
    where = _json_nul(parsed)
    return None if where is None else NulField("body", where)


NulAnswer = Callable[[HttpRequest, NulField], HttpResponse]
_ANSWERS: dict[str, NulAnswer] = {}


def answer_nul(prefix: str) -> Callable[[NulAnswer], NulAnswer]:
    """Register how the paths under ``prefix`` answer a NUL (the longest prefix wins)."""

    def register(answer: NulAnswer) -> NulAnswer:
        _ANSWERS[prefix] = answer
        return answer

    return register


RefusalRecorder = Callable[[HttpRequest, HttpResponse, NulField], HttpResponse]
# Who records a refusal (the audit app registers itself at its start): the ground floor's
# lowest layer names no app above it.
_RECORDERS: list[RefusalRecorder] = []


def record_refusals(recorder: RefusalRecorder) -> RefusalRecorder:
    """Register ``recorder`` to record every refused request, given the answer, and return
    the answer to send (it may replace it: an access that cannot be recorded is not served)."""
    if recorder not in _RECORDERS:
        _RECORDERS.append(recorder)
    return recorder


def message(field: NulField) -> str:
    return f"The field '{field.label}' must not contain a NUL character (U+0000)"


@answer_nul("/api/")
def _api_answer(request: HttpRequest, field: NulField) -> HttpResponse:
    return JsonResponse({"detail": message(field)}, status=400)


def _default_answer(request: HttpRequest, field: NulField) -> HttpResponse:
    return HttpResponse(message(field), status=400, content_type="text/plain; charset=utf-8")


def nul_answer(request: HttpRequest, field: NulField) -> HttpResponse:
    # The answers are registered by the modules the URLconf imports (config/api.py), which a
    # fresh process has not loaded yet when its first request is refused here.
    _ = get_resolver().url_patterns
    path = request.path_info
    for prefix in sorted(_ANSWERS, key=len, reverse=True):
        if path.startswith(prefix):
            return _ANSWERS[prefix](request, field)
    return _default_answer(request, field)


class RefuseNulMiddleware:
    """Answer a request that carries a NUL at once, and record the refusal in the audit log.

    It sits after the session and authentication middleware (both lazy: nothing is read from
    the database until a view asks) and before anything that reads them, so that the refusal
    can still say who asked when the credentials themselves are clean.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = first_nul_field(request)
        if field is None:
            return self.get_response(request)
        if NUL in request.COOKIES.get(settings.SESSION_COOKIE_NAME, "") and hasattr(
            request, "session"
        ):
            # The session middleware saves the session on the way out (SESSION_SAVE_EVERY_
            # REQUEST), which would look the bad key up; an empty session drops the cookie.
            request.session = type(request.session)()
        response = nul_answer(request, field)
        for record in _RECORDERS:
            response = record(request, response, field)
        return response
