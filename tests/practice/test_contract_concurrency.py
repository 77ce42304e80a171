"""A delete and a link to what it deletes, at the same time (PostgreSQL: real row locks)."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from accounts.models import Role
from core.errors import NotFound
from practice.authoring import services
from practice.models import Activity, Category, Scenario
from practice.models import SubCategory as Criterion

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: runs on PostgreSQL"),
]


def _while_deleting(row, delete) -> object:
    """Run ``delete`` in a transaction that holds ``row`` locked (as the delete services do)
    while the caller tries to link to it; returns once the deleting transaction committed."""
    locked, done = threading.Event(), threading.Event()

    def deleting() -> None:
        try:
            with transaction.atomic():
                type(row).objects.select_for_update().get(pk=row.pk)
                locked.set()
                time.sleep(0.5)  # the linking call is now waiting for the lock
                delete()
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=deleting)
    thread.start()
    locked.wait(5)
    return thread


def test_an_activity_saved_while_its_scenario_is_deleted_is_a_clean_404(make_user) -> None:
    instructor = make_user(Role.INSTRUCTOR)
    scenario = Scenario.objects.create(scenario_text="s")
    thread = _while_deleting(scenario, lambda: Scenario.objects.filter(pk=scenario.pk).delete())
    with pytest.raises(NotFound, match="Character not found"):
        services.activity_save(
            request=None,
            by=instructor,
            activity_id=None,
            pre_brief="p",
            character_id=scenario.pk,
            category_ids=[],
        )
    thread.join(5)
    assert not Activity.objects.exists()


def test_a_criterion_saved_while_its_category_is_deleted_is_a_clean_404(make_user) -> None:
    instructor = make_user(Role.INSTRUCTOR)
    category = Category.objects.create(name="c", total_required_to_pass=0)
    thread = _while_deleting(category, lambda: Category.objects.filter(pk=category.pk).delete())
    with pytest.raises(NotFound, match="Category not found"):
        services.criterion_save(
            request=None,
            by=instructor,
            criterion_id=None,
            data={"name": "n", "marking_instructions": "m", "category_id": category.pk},
        )
    thread.join(5)
    assert not Criterion.objects.exists()


def test_a_scenario_delete_waits_for_an_activity_being_saved_and_refuses(make_user) -> None:
    instructor = make_user(Role.INSTRUCTOR)
    scenario = Scenario.objects.create(scenario_text="s")
    outcome: list[object] = []

    def saving() -> None:
        try:
            with transaction.atomic():
                services.activity_save(
                    request=None,
                    by=instructor,
                    activity_id=None,
                    pre_brief="p",
                    character_id=scenario.pk,
                    category_ids=[],
                )
                started.set()
                time.sleep(0.5)  # the delete is now waiting for the scenario's lock
        finally:
            connections.close_all()

    started = threading.Event()
    thread = threading.Thread(target=saving)
    thread.start()
    started.wait(5)
    try:
        services.scenario_delete(request=None, by=instructor, scenario_id=scenario.pk)
    except Exception as exc:  # the outcome is what is checked
        outcome.append(type(exc).__name__)
    thread.join(5)
    assert outcome == ["Conflict"]
    assert Scenario.objects.filter(pk=scenario.pk).exists()
