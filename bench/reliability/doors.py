"""Issue 20's security and contract cases, over HTTP against the live server (live.py runs
them as the step ``doors``): the admin door (its login's lockout and audit, patient data
seen in it), logins ended by a password set / role change / deactivation made in the admin,
analysts cancelling each other's analyses, the Content-Security-Policy, and the API docs
(a valid OpenAPI document; signed out, the docs page leads to the sign-in page).

The browser side (Swagger UI rendering, no CSP violation in Chromium) and /health after the
SQLite file is moved are in tests/browser/ and tests/security/test_health.py.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from http.cookies import SimpleCookie
from typing import Any

from bench.reliability.common import Answer, Figure, Http, exchange, login

ADMIN_LOGIN = "/admin/login/?next=/admin/"
NEW_PASSWORD = "Changed-By-The-Admin-" + "7" * 4


class Browser:
    """Cookies, CSRF and form posts over loopback HTTP: what a browser does with the admin.

    (``Http`` keeps one value per header name; a login sets two cookies at once.)
    """

    def __init__(self, port: int, source: str | None = None) -> None:
        self.port, self.source = port, source
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:  # fmt: skip
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items() if v)
        all_headers = {"Accept": "text/html", "X-Forwarded-Proto": "https", "Cookie": cookie,
                       **(headers or {})}  # fmt: skip
        answer = exchange(self.port, method, path, body=body, headers=all_headers,
                          source=self.source)  # fmt: skip
        for name, value in answer.header_list:
            if name.lower() == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    self.cookies[morsel.key] = morsel.value
        return answer

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str]) -> Answer:
        if "csrftoken" not in self.cookies:
            self.get(path)
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": self.cookies["csrftoken"]})
        return self.request("POST", path, body.encode(), {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": self.origin,
            "Referer": self.origin + path,
        })  # fmt: skip

    def signed_in(self) -> bool:
        return bool(self.cookies.get("sessionid"))


def _events(action_prefix: str, since: int) -> list[Any]:
    from audit.models import AuditEvent

    return list(AuditEvent.objects.filter(id__gt=since, action__startswith=action_prefix)
                .order_by("id"))  # fmt: skip


def _last_event_id() -> int:
    from audit.models import AuditEvent

    last = AuditEvent.objects.order_by("-id").first()
    return last.pk if last else 0


def _staff_user(username: str, password: str) -> Any:
    from accounts.models import User

    return User.objects.create_user(
        username, f"{username}@hospital.example", password, role="admin", is_staff=True,
        is_superuser=True,
    )  # fmt: skip


# ---------------------------------------------------------------------------- the admin door


def check_admin_login(port: int, password: str, failures: int) -> Figure:
    from accounts.models import LoginFailure

    _staff_user("rel_chief", password)
    since = _last_event_id()
    guesser = Browser(port, source="127.0.0.4")
    tries = [guesser.post(ADMIN_LOGIN, {"username": "rel_chief", "password": f"guess{n}"}).status
             for n in range(failures)]  # fmt: skip
    locked = guesser.post(ADMIN_LOGIN, {"username": "rel_chief", "password": password})
    rows = LoginFailure.objects.filter(username="rel_chief").count()
    failed_events = [e for e in _events("auth.login_failed", since) if e.username == "rel_chief"]
    # From another address the right password works, and the sign-in is audited.
    elsewhere = Browser(port, source="127.0.0.5")
    success = elsewhere.post(ADMIN_LOGIN, {"username": "rel_chief", "password": password})
    success_events = [e for e in _events("auth.login", since)
                      if e.action == "auth.login" and e.detail == {"via": "admin"}]  # fmt: skip
    ok = (
        tries == [200] * failures
        and locked.status == 429
        and not guesser.signed_in()
        and rows == failures
        and len(failed_events) == failures
        and all(e.detail == {"via": "admin"} for e in failed_events)
        and success.status == 302
        and elsewhere.signed_in()
        and len(success_events) == 1
    )
    return Figure(
        "Admin login lockout and audit",
        f"{failures} wrong passwords for a superuser at /admin/login/ from 127.0.0.4 "
        f"(LOGIN_MAX_FAILURES={failures}), then the right one; then the right one from "
        "127.0.0.5 (the API's and web UI's check, same LoginFailure rows)",
        f"tries {tries}; right password then {locked.status}; LoginFailure rows {rows}; "
        f"failure events {len(failed_events)}; from elsewhere {success.status}, "
        f"login events {len(success_events)}",
        ok,
    )


def check_admin_audit(port: int, password: str, patient: tuple[str, str]) -> Figure:
    from reports.models import Report

    name, _ = patient
    admin = Browser(port, source="127.0.0.5")
    admin.post(ADMIN_LOGIN, {"username": "rel_chief", "password": password})
    report = Report.objects.filter(study__patient_name=name).first()
    pages = {
        "study list": "/admin/studies/study/",
        "study search": "/admin/studies/study/?q=" + urllib.parse.quote(name),
        "study page": f"/admin/studies/study/{report.study_id}/change/",
        "report list": "/admin/reports/report/",
        "report page": f"/admin/reports/report/{report.report_id}/change/",
        "task list": "/admin/analysis/analysistask/",
    }
    since = _last_event_id()
    statuses = {label: admin.get(path).status for label, path in pages.items()}
    events = _events("admin.", since)
    complete = [e for e in events
                if e.username == "rel_chief" and e.ip_address and e.outcome == "success"
                and e.object_type and e.status_code == 200]  # fmt: skip
    searched = [e for e in events if e.action == "admin.study.search"]
    ok = (
        all(s == 200 for s in statuses.values())
        and len(events) == len(pages)
        and len(complete) == len(pages)
        and bool(searched)
        and searched[0].query == {"q": name}
        and report.study_id in searched[0].object_ids
    )
    return Figure(
        "Patient data seen in the admin",
        "a superuser opens the study list, a search by patient name, a study's page, the "
        "report list, a report's page and the task list in the admin",
        f"{len(pages)} pages → {len(events)} audit events ({len(complete)} complete: who, "
        "where, what, ids, outcome); the search's query and ids recorded: "
        f"{'yes' if searched and searched[0].query == {'q': name} else 'no'}",
        ok,
        {"statuses": statuses, "actions": [e.action for e in events]},
    )


def _change_form(user: Any, **changes: str | bool) -> dict[str, str]:
    from django.utils import timezone

    joined = timezone.localtime(user.date_joined)
    fields = {
        "username": user.username, "email": user.email, "first_name": user.first_name,
        "last_name": user.last_name, "role": user.role, "department": user.department,
        "phone": user.phone, "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
    }  # fmt: skip
    if user.is_active:
        fields["is_active"] = "on"
    for key, value in changes.items():
        if value is False:
            fields.pop(key, None)
        else:
            fields[key] = str(value)
    return fields


def check_logins_end(port: int, password: str) -> Figure:
    """Each change made in the admin over HTTP; then the user's token, refresh and web session."""
    from accounts.models import User

    admin = Browser(port, source="127.0.0.5")
    admin.post(ADMIN_LOGIN, {"username": "rel_chief", "password": password})
    changes = {
        "password set": lambda u: admin.post(
            f"/admin/accounts/user/{u.pk}/password/",
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        ),
        "role viewer → analyst": lambda u: admin.post(
            f"/admin/accounts/user/{u.pk}/change/", _change_form(u, role="analyst")
        ),
        "role analyst → viewer": lambda u: admin.post(
            f"/admin/accounts/user/{u.pk}/change/", _change_form(u, role="viewer")
        ),
        "deactivation": lambda u: admin.post(
            f"/admin/accounts/user/{u.pk}/change/", _change_form(u, is_active=False)
        ),
    }
    survived, results = 0, {}
    for n, (label, change) in enumerate(changes.items()):
        role = "analyst" if "analyst →" in label else "viewer"
        user = User.objects.create_user(f"rel_changed{n}", f"rel_changed{n}@hospital.example",
                                        password, role=role)  # fmt: skip
        tokens = login(port, user.username, password)
        web = Browser(port, source="127.0.0.6")
        web.post("/login/", {"username": user.username, "password": password})
        before = (
            Http(port, token=tokens["access"]).get("/api/v1/auth/me").status,
            web.get("/studies/").status,
        )
        saved = change(user).status
        after = {
            "access": Http(port, token=tokens["access"]).get("/api/v1/auth/me").status,
            "refresh": Http(port)
            .post_json("/api/v1/auth/refresh", {"refresh": tokens["refresh"]})
            .status,  # fmt: skip
            "web page": web.get("/studies/").status,
        }
        results[label] = {"before": before, "admin save": saved, "after": after}
        ended = after == {"access": 401, "refresh": 401, "web page": 302}
        survived += (not ended) + (before != (200, 200)) + (saved != 302)
    return Figure(
        "Logins end on a change of credentials or rights",
        "for each of: a password set, a role raised, a role lowered, a deactivation — made in "
        "the admin over HTTP — the user's earlier access token, refresh token and web session",
        f"{len(changes)} changes × 3 logins; still working afterwards "
        f"{sum(v != e for r in results.values() for v, e in zip(r['after'].values(), (401, 401, 302), strict=True))}",
        survived == 0,
        results,
    )


# ---------------------------------------------------------------------------- cancel, CSP, docs


def check_cancel_ownership(port: int, password: str, exam_id: str) -> Figure:
    from accounts.models import User
    from analysis.models import AnalysisTask

    owner = User.objects.get(username="rel_analyst")
    User.objects.create_user("rel_analyst2", "rel_analyst2@hospital.example", password,
                             role="analyst")  # fmt: skip
    colleague = login(port, "rel_analyst2", password)["access"]
    mine = login(port, "rel_analyst", password)["access"]
    admin = login(port, "rel_admin", password)["access"]
    tasks = [AnalysisTask.objects.create(study_id=exam_id, analysis_type="general",
                                         created_by=owner) for _ in range(3)]  # fmt: skip
    refused = Http(port, token=colleague).request("DELETE", f"/api/v1/analysis/tasks/{tasks[0].pk}")
    untouched = AnalysisTask.objects.get(pk=tasks[0].pk).status == "pending"
    by_owner = Http(port, token=mine).request("DELETE", f"/api/v1/analysis/tasks/{tasks[1].pk}")
    by_admin = Http(port, token=admin).request("DELETE", f"/api/v1/analysis/tasks/{tasks[2].pk}")
    detail = refused.json().get("detail") if refused.status == 403 else None
    ok = (refused.status == 403 and bool(detail) and untouched and by_owner.status == 200
          and by_admin.status == 200)  # fmt: skip
    return Figure(
        "Cancel of another analyst's analysis",
        "DELETE /analysis/tasks/{id} of a pending task by another analyst, by its creator, "
        "by an admin",
        f"colleague {refused.status} ({detail!r}), task still pending: "
        f"{'yes' if untouched else 'no'}; creator {by_owner.status}; admin {by_admin.status}",
        ok,
    )


def _directives(header: str) -> dict[str, list[str]]:
    parts = (d.split() for d in header.split(";") if d.strip())
    return {name: values for name, *values in parts}


def check_csp(port: int, password: str) -> Figure:
    admin = Browser(port, source="127.0.0.5")
    admin.post(ADMIN_LOGIN, {"username": "rel_chief", "password": password})
    pages = ["/login/", "/studies/", "/reports/", "/analysis/", "/dashboard/", "/import/",
             "/api/v1/docs", "/api/v1/health", "/admin/", "/admin/studies/study/",
             "/no-such-page/"]  # fmt: skip
    missing, weak = [], []
    for path in pages:
        policy = _directives(admin.get(path).header("content-security-policy"))
        if not policy:
            missing.append(path)
            continue
        scripts = policy.get("script-src", policy.get("default-src", []))
        if (
            scripts != ["'self'"]
            or policy.get("object-src") != ["'none'"]
            or (policy.get("frame-ancestors") != ["'none'"])
        ):
            weak.append(path)
    return Figure(
        "Content-Security-Policy",
        "the header on the web UI's pages, the API docs, the admin, /health and a 404 "
        "(Chromium reports no violation on the product's pages: tests/browser)",
        f"{len(pages)} pages; without the header {len(missing)}; script-src other than "
        f"'self' (or no object-src/frame-ancestors 'none') {len(weak)}",
        not missing and not weak,
        {"missing": missing, "weak": weak},
    )


def check_api_docs(port: int, viewer_token: str) -> Figure:
    import schemathesis

    text = Http(port, token=viewer_token).get("/api/v1/openapi.json").body.decode()
    duplicated: list[str] = []

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
        keys = [k for k, _ in pairs]
        duplicated.extend(sorted({k for k in keys if keys.count(k) > 1}))
        return dict(pairs)

    schema = json.loads(text, object_pairs_hook=no_duplicates)
    try:
        schemathesis.openapi.from_dict(schema).validate()
        valid = "valid"
    except Exception as exc:  # any refusal is the figure
        valid = f"invalid: {str(exc)[:200]}"
    docs = Http(port).get("/api/v1/docs")
    anonymous_schema = Http(port).get("/api/v1/openapi.json").status
    to_sign_in = docs.status == 302 and re.fullmatch(
        r"/login/\?next=/api/v1/docs", docs.header("location")
    )
    return Figure(
        "API documentation",
        "openapi.json parsed refusing duplicated keys, then schemathesis's OpenAPI "
        "meta-schema check; /api/v1/docs and openapi.json signed out",
        f"duplicated keys {len(duplicated)}; OpenAPI {valid}; docs signed out {docs.status} → "
        f"{docs.header('location') or '-'}; schema signed out {anonymous_schema}",
        not duplicated and valid == "valid" and bool(to_sign_in) and anonymous_schema == 401,
        {"duplicated": duplicated},
    )
