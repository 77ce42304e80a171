"""A NUL byte anywhere in the input is a 400 in the contract's shape (SPEC-practice §4).

``core.badinput.RefuseNulMiddleware`` finds it (path, query, headers, cookies, form, JSON
body, keys included) before authentication and parsing, audits the refusal, and asks the part
of the site that owns the path how to answer: the contract owns ``/api/`` (``/api/v1/``,
longer, answers for itself)."""

from django.http import HttpRequest, HttpResponse, JsonResponse

from core.badinput import NulField, answer_nul

NUL_IN_INPUT = "The request contains a NUL byte"


@answer_nul("/api/")
def contract_nul(request: HttpRequest, field: NulField) -> HttpResponse:
    return JsonResponse({"message": NUL_IN_INPUT}, status=400)
