"""Answers rendered once and served again as bytes while the data they show is unchanged."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Schema
from ninja.renderers import JSONRenderer

# The renderer and content type NinjaAPI uses by default, so a stored answer is byte for byte
# the one Ninja would have produced from the same data.
_RENDERER = JSONRenderer()
JSON_CONTENT_TYPE = f"{_RENDERER.media_type}; charset={_RENDERER.charset}"


def render(request: HttpRequest, schema: type[Schema], body: Any) -> bytes:
    """``body`` validated by ``schema`` and rendered as Ninja renders a ``response=schema``."""
    data = schema.model_validate(
        body, context={"request": request, "response_status": 200}
    ).model_dump()
    return _RENDERER.render(request, data, response_status=200).encode()


def json_response(content: bytes) -> HttpResponse:
    return HttpResponse(content, content_type=JSON_CONTENT_TYPE)
