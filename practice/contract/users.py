"""Login and practice users (SPEC-practice §4, "Auth and users")."""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from ninja import Router, Status

from practice.authoring import selectors, services
from practice.authoring.schemas import LoginIn, LoginOut, MessageOut, UserCreateIn, errors
from practice.contract.auth import PracticeAuth, instructor_auth

router = Router(tags=["users"])


class RegistrationAuth(PracticeAuth):
    """An instructor's token; or, while PRACTICE_SELF_REGISTRATION is on, no token at all
    (then ``request.auth`` is an anonymous user and the account is a learner's)."""

    def __call__(self, request: HttpRequest):
        if "HTTP_AUTHORIZATION" not in request.META and settings.PRACTICE_SELF_REGISTRATION:
            return AnonymousUser()
        return super().__call__(request)


registration_auth = RegistrationAuth(instructor_auth.minimum_role)


@router.post("/login", response={200: LoginOut, **errors(400, 401, 429)}, auth=None)
def login(request: HttpRequest, payload: LoginIn):
    pair, user = services.contract_login(
        request=request, email=payload.email, password=payload.password
    )
    return {"token": pair.access, "role": services.contract_role(user), "name": user.username}


@router.post(
    "/create_users",
    response={201: MessageOut, **errors(400, 401, 403, 409)},
    auth=registration_auth,
)
def create_users(request: HttpRequest, payload: UserCreateIn):
    by = request.auth if request.auth.is_authenticated else None
    services.practice_user_create(
        request=request,
        by=by,
        username=payload.username,
        email=payload.email,
        password=payload.password,
        role=payload.role,
    )
    return Status(201, {"message": "User created successfully"})


@router.get("/all_users", response={200: list[str], **errors(401, 403)}, auth=instructor_auth)
def all_users(request: HttpRequest):
    return selectors.practice_user_names()
