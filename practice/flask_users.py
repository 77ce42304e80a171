"""The Flask service's users and passwords (SPEC-practice §3).

Flask stored passlib ``pbkdf2_sha256`` hashes (``$pbkdf2-sha256$<rounds>$<salt>$<hash>``).
Django's hashers cannot read a hash that starts with ``$``, and passlib is unmaintained, so the
hash is verified here with the standard library. A Flask user logs in by email, before and after
``manage.py import_flask_users``: the backend below creates the product user on the first login
when the import has not run yet.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest

from accounts.models import Role, User
from audit.services import audit_record
from practice.models import FlaskUser

FLASK_PREFIX = "$pbkdf2-sha256$"
# passlib's ab64 digest of pbkdf2-sha256 is 32 bytes; refuse anything else rather than guess.
_DIGEST_BYTES = 32


def _ab64_decode(text: str) -> bytes:
    """passlib's "adapted base64": standard base64 with ``.`` for ``+`` and no padding."""
    data = text.replace(".", "+")
    return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)


def ab64_encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=").replace("+", ".")


def is_flask_hash(encoded: str | None) -> bool:
    return bool(encoded) and encoded.startswith(FLASK_PREFIX)


def flask_hash(password: str, *, salt: bytes, rounds: int = 29000) -> str:
    """The hash passlib's ``pbkdf2_sha256.hash`` gives (used by tests and the fixtures)."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, rounds)
    return f"{FLASK_PREFIX}{rounds}${ab64_encode(salt)}${ab64_encode(digest)}"


def verify_flask_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches a passlib pbkdf2-sha256 hash; False for any malformed hash."""
    if not is_flask_hash(encoded):
        return False
    parts = encoded[len(FLASK_PREFIX) :].split("$")
    if len(parts) != 3 or not parts[0].isdigit() or parts[0].startswith("0"):
        return False
    try:
        salt = _ab64_decode(parts[1])
        expected = _ab64_decode(parts[2])
    except (binascii.Error, ValueError):
        return False
    rounds = int(parts[0])
    if len(expected) != _DIGEST_BYTES or not 1 <= rounds <= 10_000_000:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, rounds)
    return hmac.compare_digest(actual, expected)


# ---------------------------------------------------------------- the Flask ``user`` table


def flask_table_exists() -> bool:
    """The Flask ``user`` table is read only where the adopted database has it."""
    with connection.cursor() as cursor:
        return FlaskUser._meta.db_table in connection.introspection.table_names(cursor)


def practice_role(flask_role: str | None) -> str:
    """Flask ``admin`` authors (instructor, never the product's admin); anything else learns."""
    return Role.INSTRUCTOR if (flask_role or "").strip().lower() == "admin" else Role.LEARNER


def unique_username(wanted: str, *, email: str) -> str:
    """``wanted`` (Flask usernames are not unique), or ``wanted-2``, ``wanted-3``…"""
    limit = User._meta.get_field("username").max_length
    base = (wanted or "").strip() or email.split("@", 1)[0] or "user"
    base = base[:limit]
    taken = {
        name.lower()
        for name in User.objects.filter(username__istartswith=base).values_list(
            "username", flat=True
        )
    }
    if base.lower() not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = f"{base[: limit - len(suffix)]}{suffix}"
        if (
            candidate.lower() not in taken
            and not User.objects.filter(username__iexact=candidate).exists()
        ):
            return candidate
        n += 1


def _user_from_flask(row: FlaskUser) -> User:
    """A product user for a Flask row: role mapped, Flask hash stored as it is."""
    role = practice_role(row.role)
    return User.objects.create(
        username=unique_username(row.username, email=row.email),
        email=row.email.strip(),
        password=row.password,
        role=role,
        # Instructors author in Django's admin too (practice models only: practice/admin.py).
        is_staff=role == Role.INSTRUCTOR,
    )


@dataclass
class ImportSummary:
    """What ``import_flask_users`` did."""

    table_found: bool = False
    created: list[tuple[str, str, str]] = field(default_factory=list)  # (email, username, role)
    existing: int = 0
    renamed: int = 0
    skipped: list[str] = field(default_factory=list)  # emails without a usable row

    @property
    def total(self) -> int:
        return len(self.created) + self.existing + len(self.skipped)


@transaction.atomic
def import_flask_users(*, by: str = "") -> ImportSummary:
    """Create a product user for every Flask user whose email has none yet (idempotent).

    Existing product users are left alone: their password may already be newer than Flask's.
    """
    summary = ImportSummary()
    if not flask_table_exists():
        return summary
    summary.table_found = True
    known = {e.lower() for e in User.objects.values_list("email", flat=True)}
    for row in FlaskUser.objects.order_by("id"):
        email = (row.email or "").strip()
        if not email or "@" not in email:
            summary.skipped.append(email)
            continue
        if email.lower() in known:
            summary.existing += 1
            continue
        user = _user_from_flask(row)
        known.add(email.lower())
        summary.created.append((user.email, user.username, user.role))
        if user.username != (row.username or "").strip():
            summary.renamed += 1
    audit_record(
        action="practice.import_flask_users",
        outcome="success",
        username=by,
        object_type="user",
        object_ids=[username for _email, username, _role in summary.created],
        result_count=len(summary.created),
        detail={"existing": summary.existing, "skipped": len(summary.skipped)},
    )
    return summary


# ---------------------------------------------------------------- authentication backend


def _upgrade_flask_hash(user: User, *, old: str, password: str) -> None:
    """Replace a verified Flask hash by Django's, unless the parallel run still needs it.

    An upgrade is not a password change and must end no login: the password column is written
    with a queryset update, so neither ``set_password`` nor ``save`` (where a password change
    revokes the user's logins) runs. The ``password=old`` condition keeps a change made in the
    meantime.
    """
    if settings.FLASK_COMPAT:
        return
    new = make_password(password)
    if User.objects.filter(pk=user.pk, password=old).update(password=new):
        user.password = new


class FlaskEmailBackend(ModelBackend):
    """Log in by email (case-insensitive) with a Django or a Flask password hash.

    ``accounts.services`` calls ``authenticate(username=..., password=...)``: the email arrives
    as ``username``. Runs after ``ModelBackend`` (which handles usernames with Django hashes).
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        login = username.strip()
        user = User.objects.filter(email__iexact=login).order_by("id").first()
        if user is None and "@" not in login:
            # An imported user's username with a Flask hash still (ModelBackend can't read it).
            user = User.objects.filter(username=login).first()
            if user is not None and not is_flask_hash(user.password):
                return None
        if user is None:
            if "@" in login and flask_table_exists():
                return self._first_login_from_flask(login, password)
            return None
        if not self.user_can_authenticate(user):
            return None
        return user if self._check(user, password) else None

    def _check(self, user: User, password: str) -> bool:
        old = user.password
        if is_flask_hash(old):
            if not verify_flask_password(password, old):
                return False
            _upgrade_flask_hash(user, old=old, password=password)
            return True

        def upgrade(raw: str) -> None:
            # Django's own "hasher outdated" upgrade, by the same route: not a password change.
            User.objects.filter(pk=user.pk, password=old).update(password=make_password(raw))

        return check_password(password, old, setter=upgrade)

    def _first_login_from_flask(self, email: str, password: str) -> User | None:
        row = FlaskUser.objects.filter(email__iexact=email).order_by("id").first()
        if row is None or not verify_flask_password(password, row.password or ""):
            return None
        try:
            with transaction.atomic():
                user = _user_from_flask(row)
                audit_record(
                    action="practice.flask_user_adopted",
                    outcome="success",
                    user=user,
                    object_type="user",
                    object_ids=[str(user.pk)],
                )
        except IntegrityError:
            # Two first logins at once: the other one created the user; check against it.
            user = User.objects.filter(email__iexact=email).first()
            if user is None or not self.user_can_authenticate(user):
                return None
            return user if self._check(user, password) else None
        _upgrade_flask_hash(user, old=user.password, password=password)
        return user
