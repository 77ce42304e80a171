"""POST /api/threads/run and GET /api/runs/{id}/status: the contract's rules (SPEC-practice §4).

No worker runs here (the request only queues, and these tests' transactions never commit, so
nothing is even enqueued): every run stays ``queued`` unless a test moves it. The worker's side
is in test_runs_worker.py.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from practice.models import Conversation, Message, Run

pytestmark = pytest.mark.django_db

RUN = "/api/threads/run"


def post(client: Client, path: str, body: dict):
    return client.post(path, body, content_type="application/json")


def thread_with_message(client: Client, text: str = "Hello, I'm Dr Lee.", **body: object) -> str:
    thread_id = post(client, "/api/threads", body).json()["thread_id"]
    response = post(client, f"/api/threads/{thread_id}/messages", {"role": "user", "content": text})
    assert response.status_code == HTTPStatus.CREATED
    return thread_id


def run(client: Client, thread_id: str, **body: object):
    return post(client, RUN, {"thread_id": thread_id, **body})


def status(client: Client, run_id: str, thread_id: str | None):
    query = f"?thread_id={thread_id}" if thread_id is not None else ""
    return client.get(f"/api/runs/{run_id}/status{query}")


def snapshot() -> tuple:
    return (
        list(Run.objects.values_list("run_id", "status")),
        list(Conversation.objects.values_list("thread_id", "scenario_id", "activity_id")),
        Message.objects.count(),
    )


def test_a_run_is_queued_and_ties_a_thread_created_with_an_empty_body(conversation_world):
    world = conversation_world
    thread_id = thread_with_message(world.learner)
    # The frontend sends both ids; the activity's character wins over a scenario beside it.
    response = run(
        world.learner,
        thread_id,
        activity_id=world.activity.pk,
        scenario_id=world.other_scenario.pk,
    )
    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert set(body) == {"run_id", "status"}
    assert body["status"] == "queued"
    assert isinstance(body["run_id"], str)
    conversation = Conversation.objects.get(thread_id=thread_id)
    assert (conversation.activity, conversation.scenario) == (world.activity, world.scenario)
    stored = Run.objects.get(run_id=body["run_id"])
    assert (stored.after_index, stored.engine, stored.requested_by) == (
        0,
        "scripted",
        world.learner.user,
    )
    # Nothing was produced in the request.
    assert list(Message.objects.values_list("role", flat=True)) == ["user"]
    response = status(world.learner, body["run_id"], thread_id)
    assert (response.status_code, response.json()) == (HTTPStatus.OK, {"status": "queued"})


def test_status_needs_the_thread_and_a_run_of_that_thread(conversation_world):
    world = conversation_world
    first = thread_with_message(world.learner)
    second = thread_with_message(world.learner)
    run_id = run(world.learner, first, scenario_id=world.scenario.pk).json()["run_id"]
    response = status(world.learner, run_id, None)
    assert (response.status_code, response.json()) == (
        HTTPStatus.BAD_REQUEST,
        {"message": "Missing fields"},
    )
    response = status(world.learner, run_id, second)
    assert (response.status_code, response.json()) == (
        HTTPStatus.NOT_FOUND,
        {"message": "Run not found"},
    )
    response = status(world.other_learner, run_id, first)
    assert (response.status_code, response.json()) == (
        HTTPStatus.NOT_FOUND,
        {"message": "Thread not found"},
    )
    assert status(world.instructor, run_id, first).json() == {"status": "queued"}


def test_a_second_run_while_one_is_queued_or_in_progress_is_409(conversation_world):
    world = conversation_world
    thread_id = thread_with_message(world.learner)
    run_id = run(world.learner, thread_id, scenario_id=world.scenario.pk).json()["run_id"]
    for state in ("queued", "in_progress"):
        Run.objects.filter(run_id=run_id).update(status=state)
        before = snapshot()
        response = run(world.learner, thread_id, scenario_id=world.scenario.pk)
        assert (response.status_code, response.json()) == (
            HTTPStatus.CONFLICT,
            {"message": "A run of this thread is already queued or in progress"},
        )
        assert snapshot() == before


def test_a_run_when_the_last_message_is_not_the_learners_is_409(conversation_world):
    world = conversation_world
    empty = post(world.learner, "/api/threads", {}).json()["thread_id"]
    response = run(world.learner, empty, scenario_id=world.scenario.pk)
    assert (response.status_code, response.json()) == (
        HTTPStatus.CONFLICT,
        {"message": "The thread's last message is not the learner's"},
    )
    # A refused run does not tie the thread either.
    assert Conversation.objects.get(thread_id=empty).scenario is None

    thread_id = thread_with_message(world.learner)
    conversation = Conversation.objects.get(thread_id=thread_id)
    first = run(world.learner, thread_id, scenario_id=world.scenario.pk).json()["run_id"]
    Run.objects.filter(run_id=first).update(status="completed")
    Message.objects.create(conversation=conversation, index=1, role="assistant", content="Hi.")
    before = snapshot()
    response = run(world.learner, thread_id, scenario_id=world.scenario.pk)
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {"message": "The thread's last message is not the learner's"}
    assert snapshot() == before


def test_a_run_naming_another_activity_than_the_threads_is_409(conversation_world):
    world = conversation_world
    thread_id = thread_with_message(world.learner, activity_id=world.activity.pk)
    before = snapshot()
    response = run(world.learner, thread_id, activity_id=world.other_activity.pk)
    assert (response.status_code, response.json()) == (
        HTTPStatus.CONFLICT,
        {"message": "This thread belongs to another activity"},
    )
    # Another activity on the same scenario is another activity all the same.
    response = run(world.learner, thread_id, activity_id=world.empty_activity.pk)
    assert response.status_code == HTTPStatus.CONFLICT
    assert snapshot() == before


def test_a_run_naming_another_scenario_than_the_threads_is_409(conversation_world):
    world = conversation_world
    thread_id = thread_with_message(world.learner, scenario_id=world.scenario.pk)
    before = snapshot()
    response = run(world.learner, thread_id, scenario_id=world.other_scenario.pk)
    assert (response.status_code, response.json()) == (
        HTTPStatus.CONFLICT,
        {"message": "This thread belongs to another scenario"},
    )
    # An activity whose character is another scenario is refused too.
    response = run(world.learner, thread_id, activity_id=world.other_activity.pk)
    assert response.status_code == HTTPStatus.CONFLICT
    # A thread tied by its activity refuses another scenario named alone.
    tied = thread_with_message(world.learner, activity_id=world.activity.pk)
    before = snapshot()
    response = run(world.learner, tied, scenario_id=world.other_scenario.pk)
    assert response.status_code == HTTPStatus.CONFLICT
    assert snapshot() == before


def test_a_thread_tied_to_a_scenario_takes_an_activity_of_that_scenario(conversation_world):
    world = conversation_world
    thread_id = thread_with_message(world.learner, scenario_id=world.scenario.pk)
    response = run(world.learner, thread_id, activity_id=world.activity.pk)
    assert response.status_code == HTTPStatus.CREATED
    conversation = Conversation.objects.get(thread_id=thread_id)
    assert (conversation.activity, conversation.scenario) == (world.activity, world.scenario)


def test_a_thread_tied_at_its_first_run_refuses_another_scenario_at_its_second(conversation_world):
    world = conversation_world
    thread_id = thread_with_message(world.learner)
    first = run(world.learner, thread_id, scenario_id=world.scenario.pk).json()["run_id"]
    Run.objects.filter(run_id=first).update(status="failed")
    response = run(world.learner, thread_id, scenario_id=world.other_scenario.pk)
    assert response.status_code == HTTPStatus.CONFLICT
    # The retry on the same scenario after a failure is accepted (the same conversation).
    response = run(world.learner, thread_id, scenario_id=world.scenario.pk)
    assert response.status_code == HTTPStatus.CREATED
    # Naming nothing uses the thread's ties.
    Run.objects.filter(run_id=response.json()["run_id"]).update(status="failed")
    assert run(world.learner, thread_id).status_code == HTTPStatus.CREATED


def test_a_learners_run_on_a_disabled_scenario_is_404(conversation_world):
    world = conversation_world
    thread_id = thread_with_message(world.learner, scenario_id=world.scenario.pk)
    world.scenario.enable = False
    world.scenario.save()
    before = snapshot()
    for body in ({"scenario_id": world.scenario.pk}, {"activity_id": world.activity.pk}, {}):
        response = run(world.learner, thread_id, **body)
        assert (response.status_code, response.json()) == (
            HTTPStatus.NOT_FOUND,
            {"message": "Scenario not found"},
        )
    assert snapshot() == before
    # An instructor may still try a disabled scenario in their own thread.
    own = thread_with_message(world.instructor)
    response = run(world.instructor, own, scenario_id=world.scenario.pk)
    assert response.status_code == HTTPStatus.CREATED


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, HTTPStatus.BAD_REQUEST, "Missing fields"),
        ({"thread_id": ""}, HTTPStatus.BAD_REQUEST, "Missing fields"),
        ({"thread_id": "thread_nope", "scenario_id": 1}, HTTPStatus.NOT_FOUND, "Thread not found"),
    ],
)
def test_a_run_without_a_known_thread_is_refused(conversation_world, body, code, message):
    response = post(conversation_world.learner, RUN, body)
    assert (response.status_code, response.json()) == (code, {"message": message})
    assert not Run.objects.exists()


def test_a_run_naming_no_scenario_on_an_untied_thread_is_400(conversation_world):
    world = conversation_world
    thread_id = thread_with_message(world.learner)
    response = run(world.learner, thread_id)
    assert (response.status_code, response.json()) == (
        HTTPStatus.BAD_REQUEST,
        {"message": "Missing fields"},
    )
    for field in ("scenario_id", "activity_id"):
        response = run(world.learner, thread_id, **{field: 999_999})
        assert response.status_code == HTTPStatus.NOT_FOUND
    assert not Run.objects.exists()


def test_model_must_be_one_of_the_allowed_models(conversation_world, settings):
    world = conversation_world
    settings.PRACTICE_ALLOWED_MODELS = ["gpt-4o-mini", "llama3"]
    thread_id = thread_with_message(world.learner)
    response = run(world.learner, thread_id, scenario_id=world.scenario.pk, model="gpt-5-pro")
    assert (response.status_code, response.json()) == (
        HTTPStatus.BAD_REQUEST,
        {"message": "Unknown model: gpt-5-pro"},
    )
    assert not Run.objects.exists()
    response = run(world.learner, thread_id, scenario_id=world.scenario.pk, model="llama3")
    assert response.status_code == HTTPStatus.CREATED
    assert Run.objects.get().model == "llama3"


def test_an_instructor_cannot_run_in_a_learners_thread(conversation_world):
    world = conversation_world
    thread_id = thread_with_message(world.learner)
    response = run(world.instructor, thread_id, scenario_id=world.scenario.pk)
    assert (response.status_code, response.json()) == (
        HTTPStatus.FORBIDDEN,
        {"message": "You cannot write into another user's thread"},
    )
    response = run(world.other_learner, thread_id, scenario_id=world.scenario.pk)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not Run.objects.exists()


def test_an_overdue_run_expires_on_read_and_no_longer_blocks_a_retry(conversation_world, settings):
    world = conversation_world
    settings.PRACTICE_RUN_EXPIRY_SECONDS = 100
    thread_id = thread_with_message(world.learner)
    run_id = run(world.learner, thread_id, scenario_id=world.scenario.pk).json()["run_id"]
    Run.objects.filter(run_id=run_id).update(
        status="in_progress", created_at=timezone.now() - timedelta(seconds=101)
    )
    response = status(world.learner, run_id, thread_id)
    assert response.json() == {
        "status": "expired",
        "message": "The patient did not reply within 100 s; please try again.",
    }
    expired = Run.objects.get(run_id=run_id)
    assert expired.finished_at is not None
    assert AuditEvent.objects.filter(action="practice.run_expire").count() == 1
    # Another overdue run (nobody read it) is closed before the next run is checked.
    retry = run(world.learner, thread_id).json()["run_id"]
    Run.objects.filter(run_id=retry).update(created_at=timezone.now() - timedelta(seconds=500))
    response = run(world.learner, thread_id)
    assert response.status_code == HTTPStatus.CREATED
    assert Run.objects.get(run_id=retry).status == "expired"
    assert list(Message.objects.values_list("role", flat=True)) == ["user"]


def test_runs_are_audited(conversation_world):
    world = conversation_world
    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    thread_id = thread_with_message(world.learner)
    run_id = run(world.learner, thread_id, scenario_id=world.scenario.pk).json()["run_id"]
    status(world.learner, run_id, thread_id)
    events = AuditEvent.objects.filter(id__gt=start, action__startswith="practice.run")
    assert [(e.action, e.status_code, e.object_ids) for e in events.order_by("id")] == [
        ("practice.run_create", 201, [thread_id]),
        ("practice.run_status", 200, [thread_id]),
    ]
    assert events.order_by("id")[0].detail["run_id"] == run_id


def _together(calls: list) -> list:
    """Run the calls in real threads released at once (each with its own connection)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = calls[i]()
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_racing_requests_number_messages_in_order_and_queue_one_run(conversation_world):
    world = conversation_world
    thread_id = post(world.learner, "/api/threads", {"scenario_id": world.scenario.pk}).json()[
        "thread_id"
    ]
    texts = [f"Question {i}?" for i in range(6)]
    sent = _together(
        [
            lambda t=t: post(
                world.learner, f"/api/threads/{thread_id}/messages", {"role": "user", "content": t}
            )
            for t in texts
        ]
    )
    assert [r.status_code for r in sent] == [HTTPStatus.CREATED] * 6
    stored = list(Message.objects.order_by("index").values_list("index", "content"))
    assert [i for i, _ in stored] == list(range(6))
    assert sorted(c for _, c in stored) == texts

    answers = _together([lambda: run(world.learner, thread_id) for _ in range(4)])
    assert (
        sorted(r.status_code for r in answers) == [HTTPStatus.CREATED] + [HTTPStatus.CONFLICT] * 3
    )
    assert Run.objects.count() == 1
