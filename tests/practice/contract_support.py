"""Helpers of the contract tests: JSON calls and a snapshot of everything a write could touch."""

import json
from typing import Any

from django.test import Client

from accounts.models import User
from practice.models import Activity, ActivityCategory, Category, RubricQuestion, Scenario, Tag
from practice.models import SubCategory as Criterion

JSON = "application/json"


def call(client: Client, method: str, path: str, body: Any = None, **extra: Any):
    """One request; ``body`` is sent as JSON (a ``bytes`` or ``str`` body as it is)."""
    send = getattr(client, method.lower())
    if body is None:
        return send(path, **extra)
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return send(path, data=data, content_type=extra.pop("content_type", JSON), **extra)


def snapshot() -> dict[str, list]:
    """Every row of the tables the contract writes (users too), to prove a refusal wrote nothing."""
    tables = {
        "scenarios": Scenario.objects.order_by("id"),
        "tags": Tag.objects.order_by("id"),
        "questions": RubricQuestion.objects.order_by("id"),
        "categories": Category.objects.order_by("id"),
        "criteria": Criterion.objects.order_by("id"),
        "activities": Activity.objects.order_by("id"),
        "links": ActivityCategory.objects.order_by("activity_id", "category_id"),
        "users": User.objects.order_by("id").values(
            "id", "username", "email", "role", "password", "is_active"
        ),
    }
    return {name: list(rows.values()) for name, rows in tables.items()}
