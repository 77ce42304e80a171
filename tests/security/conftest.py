"""Fixtures of the security checks: a small world of data and one logged-in client per role."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import Role, User
from analysis.models import AnalysisTask
from ingest.models import ImportBatch
from tests.conftest import login
from tests.factories import ReportFactory, StudyFactory, UserFactory

CSV_HEADERS = "检查号,姓名,检查状态,检查来源,检查项目,开单时间"


@dataclass
class World:
    """Users of every role with their tokens, and one record of each kind the API serves."""

    users: dict[str, User]
    tokens: dict[str, dict]
    exam_id: str
    report_id: str
    task_id: str
    batch_id: str
    counter: list[int] = field(default_factory=lambda: [0])

    def client(self, role: str, **defaults: object) -> Client:
        if role == "anonymous":
            return Client(**defaults)
        return Client(HTTP_AUTHORIZATION=f"Bearer {self.tokens[role]['access']}", **defaults)

    def fresh_tokens(self, role: str) -> dict:
        return login(Client(), self.users[role].username)

    def next(self) -> int:
        self.counter[0] += 1
        return self.counter[0]


@pytest.fixture
def world(db) -> World:
    from bench.reliability.policy import ROLES

    users = {role: UserFactory(username=f"sec_{role}", role=role) for role in ROLES[1:]}
    tokens = {role: login(Client(), user.username) for role, user in users.items()}
    report = ReportFactory(report_id="RSEC0001", study=StudyFactory(exam_id="SEC0001"))
    task = AnalysisTask.objects.create(
        study_id=report.study_id, analysis_type="general", created_by=users[Role.ANALYST]
    )
    batch = ImportBatch.objects.create(kind="studies", file_name="seed.csv")
    return World(users, tokens, report.study_id, report.report_id, task.task_id, batch.batch_id)


def tiny_csv(exam_id: str) -> SimpleUploadedFile:
    body = f"{CSV_HEADERS}\n{exam_id},测试,已审核,门诊,胸部CT,2025-11-06 10:30:00\n"
    return SimpleUploadedFile("tiny.csv", body.encode("utf-8"), content_type="text/csv")


def tiny_reports_json(exam_id: str, report_id: str) -> SimpleUploadedFile:
    body = json.dumps([{"report_id": report_id, "exam_id": exam_id, "content": "未见异常"}])
    return SimpleUploadedFile("tiny.json", body.encode(), content_type="application/json")


@pytest.fixture
def call(world: World) -> Callable:
    """Send one operation of the schema as ``role``, with a body that would succeed."""
    from bench.reliability.policy import ELEVATION_FIELDS

    def send(method: str, path: str, role: str, **extra: object):
        n = world.next()
        client = world.client(role)
        url = (
            path.replace("{exam_id}", world.exam_id)
            .replace("{report_id}", world.report_id)
            .replace("{batch_id}", world.batch_id)
        )
        if "{task_id}" in url:
            if method == "DELETE":
                # A task of its own for each cancel, so that every role meets a pending one
                # (its own: cancelling a colleague's is tested in test_cancel_ownership.py).
                task = AnalysisTask.objects.create(
                    study_id=world.exam_id,
                    analysis_type="general",
                    created_by=world.users.get(role),
                )
                url = url.replace("{task_id}", task.task_id)
            else:
                url = url.replace("{task_id}", world.task_id)
        if url.endswith("/auth/login"):
            user = world.users.get(role) or world.users[Role.VIEWER]
            body = {"username": user.username, "password": "correct-horse-battery-9"}
            return client.post(
                url, {**body, **ELEVATION_FIELDS}, content_type="application/json", **extra
            )
        if url.endswith("/auth/refresh"):
            fresh = world.fresh_tokens(role if role != "anonymous" else Role.VIEWER)
            body = {"refresh": fresh["refresh"], **ELEVATION_FIELDS}
            return client.post(url, body, content_type="application/json", **extra)
        if url.endswith("/auth/logout"):
            # Its own login, so that the role's main token survives.
            if role != "anonymous":
                client = Client(HTTP_AUTHORIZATION=f"Bearer {world.fresh_tokens(role)['access']}")
            return client.post(url, **extra)
        if url.endswith("/import/studies"):
            form = {"file": tiny_csv(f"SECI{n:05d}"), **ELEVATION_FIELDS}
            return client.post(url, form, **extra)
        if url.endswith("/import/reports"):
            form = {"file": tiny_reports_json(world.exam_id, f"RSECI{n:05d}"), **ELEVATION_FIELDS}
            return client.post(url, form, **extra)
        if method == "POST" and url.endswith("/analysis/tasks"):
            body = {"exam_id": world.exam_id, "analysis_type": "general", **ELEVATION_FIELDS}
            return client.post(url, body, content_type="application/json", **extra)
        if method == "DELETE":
            return client.delete(url, **extra)
        return client.generic(method, url, **extra)

    return send
