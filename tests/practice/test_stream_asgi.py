"""The web UI's streamed replies under both server interfaces (docs/practice.md, "A class at
once"): under ASGI the reply is read on the event loop (the ``openai`` engine's ``astream``)
and each event leaves as it comes; under WSGI the synchronous path, as before. Against the
built-in model server through the real ``openai`` client."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from practice.engines.base import EngineError
from practice.engines.compat_server import CompatServer
from practice.engines.openai import OpenAIPatient
from practice.models import Conversation, Message
from tests.practice.openai_server import openai_config
from tests.practice.test_openai_engine import CONTEXT, TRANSCRIPT, scripted_reply

STYLES = ["chat", "responses"]
HELLO = TRANSCRIPT[:1]
QUESTION = "When did the pain start?"


def events(raw: bytes) -> list[tuple[str, dict]]:
    out = []
    for frame in raw.decode().split("\n\n"):
        if frame.strip():
            name, data = frame.split("\n", 1)
            out.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return out


async def collect(stream) -> list[str]:
    return [chunk async for chunk in stream]


# ------------------------------------------------------------------------------ the engine


@pytest.mark.parametrize("style", STYLES)
def test_astream_arrives_in_chunks_that_make_the_reply(
    compat_server: CompatServer, style: str
) -> None:
    patient = OpenAIPatient(openai_config(compat_server, api_style=style))

    chunks = async_to_sync(collect)(patient.astream(CONTEXT, HELLO))

    assert len(chunks) > 1
    assert "".join(chunks) == scripted_reply(HELLO)
    assert compat_server.requests[0].body["stream"] is True


@pytest.mark.parametrize("style", STYLES)
def test_a_dropped_astream_is_a_502_after_the_chunks_that_came(
    compat_server: CompatServer, style: str
) -> None:
    compat_server.set_faults(drop_stream=1)
    patient = OpenAIPatient(openai_config(compat_server, api_style=style))
    received: list[str] = []

    async def read() -> None:
        async for chunk in patient.astream(CONTEXT, HELLO):
            received.append(chunk)

    with pytest.raises(EngineError) as caught:
        async_to_sync(read)()

    assert caught.value.status == 502
    assert caught.value.message == (
        "The virtual patient is unavailable: the connection to the model server failed or "
        "broke off. Please try again."
    )
    assert received
    assert scripted_reply(HELLO).startswith("".join(received))
    assert "".join(received) != scripted_reply(HELLO)


def test_a_429_on_astream_fails_clearly_after_the_retries(compat_server: CompatServer) -> None:
    compat_server.set_faults(rate_limit=-1, retry_after=0.1)
    patient = OpenAIPatient(openai_config(compat_server, max_retries=1))

    with pytest.raises(EngineError) as caught:
        async_to_sync(collect)(patient.astream(CONTEXT, HELLO))

    assert caught.value.status == 502
    assert caught.value.message == (
        "The virtual patient is busy: the model server is rate-limiting requests (HTTP 429). "
        "Please try again in a moment."
    )
    assert len(compat_server.requests) == 2


# ------------------------------------------------------------------------------ the route


@pytest.fixture
def openai_patient(settings, compat_server: CompatServer) -> CompatServer:
    settings.PRACTICE_PATIENT_ENGINE = "openai"
    settings.OPENAI_BASE_URL = compat_server.base_url
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_MODEL = "practice-scripted"
    settings.OPENAI_API_STYLE = "chat"
    return compat_server


def _thread(world) -> Conversation:
    return Conversation.objects.create(
        thread_id="thread_asgi", user=world.learner.user, scenario=world.scenario
    )


# Django's ASGI handler runs each request's synchronous code in a thread of its own: the data
# must be committed for it to see them.
@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_first_words_leave_while_the_model_holds_the_rest(
    conversation_world, openai_patient: CompatServer
) -> None:
    thread = _thread(conversation_world)
    token = conversation_world.learner.tokens["access"]
    openai_patient.hold()

    async def first_then_rest() -> tuple[int, str, list[bytes], list[bytes]]:
        # per request: AsyncClient drops the headers given to its constructor
        response = await AsyncClient().post(
            f"/api/v1/practice/conversations/{thread.thread_id}/stream",
            {"content": QUESTION},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == HTTPStatus.OK, response.content
        chunks = aiter(response.streaming_content)
        first = [await anext(chunks), await anext(chunks)]  # message, then the first delta
        openai_patient.release()
        return response.status_code, response["Content-Type"], first, [c async for c in chunks]

    status, content_type, first, rest = async_to_sync(first_then_rest)()

    assert status == HTTPStatus.OK
    assert content_type == "text/event-stream; charset=utf-8"
    assert [name for name, _ in events(b"".join(first))] == ["message", "delta"]
    sent = events(b"".join(first + rest))
    assert sent[0] == ("message", {"index": 0, "role": "user", "content": QUESTION})
    assert sent[-1][0] == "done"
    reply = "".join(data["text"] for name, data in sent if name == "delta")
    assert sent[-1][1] == {"index": 1, "role": "assistant", "content": reply}
    assert list(Message.objects.filter(conversation=thread).values_list("role", "content")) == [
        ("user", QUESTION),
        ("assistant", reply),
    ]


@pytest.mark.django_db(transaction=True)
def test_under_asgi_a_dropped_reply_ends_with_an_error_and_keeps_the_message(
    conversation_world, openai_patient: CompatServer
) -> None:
    thread = _thread(conversation_world)
    token = conversation_world.learner.tokens["access"]
    openai_patient.set_faults(drop_stream=-1)

    async def post() -> list[bytes]:
        # per request: AsyncClient drops the headers given to its constructor
        response = await AsyncClient().post(
            f"/api/v1/practice/conversations/{thread.thread_id}/stream",
            {"content": QUESTION},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        return [c async for c in response.streaming_content]

    sent = events(b"".join(async_to_sync(post)()))

    assert sent[-1] == (
        "error",
        {
            "detail": "The virtual patient is unavailable: the connection to the model server "
            "failed or broke off. Please try again."
        },
    )
    assert list(Message.objects.filter(conversation=thread).values_list("role", flat=True)) == [
        "user"
    ]


def test_under_wsgi_the_same_route_streams_synchronously(
    conversation_world, openai_patient: CompatServer
) -> None:
    thread = _thread(conversation_world)

    response = conversation_world.learner.post(
        f"/api/v1/practice/conversations/{thread.thread_id}/stream",
        {"content": QUESTION},
        content_type="application/json",
    )
    chunks = list(response.streaming_content)

    assert response.status_code == HTTPStatus.OK
    sent = events(b"".join(chunks))
    assert [name for name, _ in sent][:2] == ["message", "delta"]
    assert len([name for name, _ in sent if name == "delta"]) > 1
    assert sent[-1][0] == "done"
    assert Message.objects.filter(conversation=thread).count() == 2


# ------------------------------------------------------------------------------ gathering


def _paced(pieces: list[str], gap: float):  # noqa: ANN202
    import time

    for i, piece in enumerate(pieces):
        if i:
            time.sleep(gap)
        yield piece


def test_pieces_after_the_first_go_out_together_and_nothing_is_lost():
    from practice.conversations.streaming import EVENT_INTERVAL_SECONDS, _gathered

    pieces = [f"w{i} " for i in range(20)]
    kept: list[str] = []
    sent = list(_gathered(_paced(pieces, EVENT_INTERVAL_SECONDS / 10), kept))
    assert sent[0] == pieces[0]  # the first piece at once, alone
    assert "".join(sent) == "".join(pieces) == "".join(kept)
    assert len(sent) < len(pieces)  # ~0.2 s of pieces in a few events, not twenty


def test_empty_pieces_are_not_events():
    from practice.conversations.streaming import _gathered

    kept: list[str] = []
    sent = list(_gathered(iter(["", "a", "", "b"]), kept))
    assert "".join(sent) == "ab" and all(sent)
    assert kept == ["a", "b"]
