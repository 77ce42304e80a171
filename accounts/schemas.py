from ninja import Schema
from pydantic import Field

from core.schemas import LocalDateTime


class LoginIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)


class RefreshIn(Schema):
    refresh: str = Field(min_length=1, max_length=4096)


class LogoutIn(Schema):
    refresh: str | None = None


class UserOut(Schema):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    department: str
    phone: str
    role: str
    last_login: LocalDateTime | None

    @staticmethod
    def resolve_role(obj) -> str:
        return obj.effective_role


class TokenOut(Schema):
    access: str
    refresh: str
    token_type: str = "bearer"
    expires_in: int
    user: UserOut


class DetailOut(Schema):
    detail: str
