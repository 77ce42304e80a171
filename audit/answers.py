"""What the studies' and the reports' search endpoints share: one audited page of results
(here, above core, since core imports no app: tests/core/test_layers.py)."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from audit.services import audit_note
from core.search import rendered


def search_answer(
    request: HttpRequest,
    search_page: Callable[..., dict[str, Any]],
    params: Any,
    *,
    object_type: str,
) -> HttpResponse:
    """The page ``params`` ask for, rendered by ``search_page``, with the ids it shows audited.

    ``params`` is the endpoint's search parameters (``filters()``, ``page``, ``page_size``);
    the audited action is ``<object_type>.search``.
    """
    page = search_page(
        filters=params.filters(), page=params.page, page_size=params.page_size, request=request
    )
    audit_note(
        request,
        action=f"{object_type}.search",
        object_type=object_type,
        object_ids=page["ids"],
        result_count=page["total"],
    )
    return rendered.json_response(page["content"])
