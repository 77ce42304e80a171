"""The language an API request asks for (the web pages follow Django's locale middleware)."""

from typing import Any

from django.utils import translation


def request_language(request: Any) -> str:
    """The API's language: the best of ``Accept-Language`` the product speaks, else English.

    The API ignores the web UI's language cookie: a client says what it reads in each request.
    """
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in translation.trans_real.parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return "en"
