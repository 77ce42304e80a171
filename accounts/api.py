import json

from django.http import HttpRequest
from ninja import Router
from pydantic import ValidationError as PydanticValidationError

from accounts import services
from accounts.auth import signed_in_auth
from accounts.schemas import DetailOut, LoginIn, LogoutIn, RefreshIn, TokenOut, UserOut
from core.errors import InvalidInput

router = Router(tags=["auth"])


def _body_doc(schema: type, *, required: bool) -> dict:
    """OpenAPI for a body this module parses itself (JSON or form)."""
    json_schema = schema.model_json_schema()
    return {
        "requestBody": {
            "content": {
                "application/json": {"schema": json_schema},
                "application/x-www-form-urlencoded": {"schema": json_schema},
            },
            "required": required,
        }
    }


def _optional_body(schema: type) -> dict:
    return _body_doc(schema, required=False)


def _parse_body(request: HttpRequest, schema: type, *, optional: bool = False) -> object:
    """A body given as JSON or as a form, validated by ``schema`` (422 with field errors)."""
    content_type = request.content_type or ""
    if optional and not request.body:
        return None
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        data = request.POST.dict()
    else:
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput("Request body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise InvalidInput("Request body must be a JSON object")
    try:
        return schema.model_validate(data)
    except PydanticValidationError as exc:
        from ninja.errors import ValidationError

        errors = [
            {"type": e["type"], "loc": ["body", *e["loc"]], "msg": e["msg"]} for e in exc.errors()
        ]
        raise ValidationError(errors) from exc


@router.post(
    "/login", response=TokenOut, auth=None, openapi_extra=_body_doc(LoginIn, required=True)
)
def login(request: HttpRequest):
    credentials = _parse_body(request, LoginIn)
    return services.login(
        request=request, username=credentials.username, password=credentials.password
    )


@router.post("/refresh", response=TokenOut, auth=None)
def refresh(request: HttpRequest, payload: RefreshIn):
    return services.refresh(request=request, refresh_token=payload.refresh)


@router.post(
    "/logout", response=DetailOut, auth=signed_in_auth, openapi_extra=_optional_body(LogoutIn)
)
def logout(request: HttpRequest):
    payload = _parse_body(request, LogoutIn, optional=True)
    services.logout(user=request.auth, refresh_token=payload.refresh if payload else None)
    return {"detail": "Logged out"}


@router.get("/me", response=UserOut, auth=signed_in_auth)
def me(request: HttpRequest):
    return request.auth
