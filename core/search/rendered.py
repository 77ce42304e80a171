"""Answers rendered once and served again as bytes while the data they show is unchanged."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Schema
from ninja.renderers import JSONRenderer

from core.cache import cached, data_version, shown_versions
from core.keys import key_of

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


def cached_page(
    data: str,
    schema: type[Schema],
    *,
    search: Callable[[int], tuple[list, int, Any]],
    ids: Callable[[list], list[str]],
    params: dict[str, Any],
    page: int,
    page_size: int,
    version: int | None = None,
    request: HttpRequest | None = None,
    shows: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A list page as the API sends it (``content``), with the ids and total the audit records.

    ``search(version)`` returns the page's rows, the exact total and the ``filters`` part of
    the answer; the rendered answer is reused until the next write to ``data`` (core.cache),
    or to one of the other tables whose fields its rows show (``shows``: a report's patient
    name comes from its study).
    """
    if version is None:
        version = data_version(data, request)

    def answer() -> dict[str, Any]:
        rows, total, filters = search(version)
        body = {
            "data": rows, "total": total, "page": page, "page_size": page_size, "filters": filters
        }  # fmt: skip
        return {"content": render(request, schema, body), "ids": ids(rows), "total": total}

    key = key_of({**params, "page": page, "page_size": page_size, **shown_versions(shows, request)})
    return cached(data, f"page:{key}", answer, version=version)


def cached_render(
    data: str,
    name: str,
    schema: type[Schema],
    compute: Callable[[], Any],
    *,
    version: int | None = None,
    request: HttpRequest | None = None,
) -> bytes:
    """``compute()`` rendered by ``schema``, reused until the next write to ``data``."""
    if version is None:
        version = data_version(data, request)
    return cached(
        data, f"{name}:rendered", lambda: render(request, schema, compute()), version=version
    )


def page_answer(
    data: str,
    schema: type[Schema],
    search: Callable[..., tuple[list, int, Any]],
    ids: Callable[[list], list[str]],
    *,
    shows: tuple[str, ...] = (),
) -> Callable[..., dict[str, Any]]:
    """The ``search_page(*, filters, page, page_size, version=None, request=None)`` of a search:
    ``search(page=, page_size=, version=, **filters)``'s page rendered by ``schema`` with its
    ``ids`` and total, for the audit (``cached_page``)."""

    def search_page(
        *,
        filters: dict[str, Any],
        page: int,
        page_size: int,
        version: int | None = None,
        request: HttpRequest | None = None,
    ) -> dict[str, Any]:
        return cached_page(
            data, schema,
            search=lambda v: search(page=page, page_size=page_size, version=v, **filters),
            ids=ids, params=filters, page=page, page_size=page_size, version=version,
            request=request, shows=shows,
        )  # fmt: skip

    return search_page


def options_content(
    data: str,
    schema: type[Schema],
    options: Callable[..., Any],
    *,
    version: int | None = None,
    request: HttpRequest | None = None,
) -> bytes:
    """The filter lists of a search (``options(version=)``) rendered by ``schema``."""
    return cached_render(
        data, "options", schema, lambda: options(version=version), version=version, request=request
    )
