"""A bad model server, for real: the built-in server's injected faults against the ``openai``
engines through the real ``openai`` client (its own retries and backoff included)."""

import threading
import time

import pytest

from practice.engines.base import EngineError, Turn
from practice.engines.compat_server import CompatServer
from practice.engines.openai import OpenAIGrader, OpenAIPatient
from tests.practice.openai_server import openai_config
from tests.practice.test_openai_engine import CONTEXT, RUBRIC, TRANSCRIPT, scripted_reply

STYLES = ["chat", "responses"]
HELLO = TRANSCRIPT[:1]


@pytest.mark.parametrize("style", STYLES)
def test_a_429_is_retried_after_the_servers_retry_after_then_succeeds(
    compat_server: CompatServer, style: str
) -> None:
    # 1.5 s is well above the client's own first backoff (at most 0.5 s): only honouring
    # Retry-After makes the second request wait that long.
    compat_server.set_faults(rate_limit=1, retry_after=1.5)
    patient = OpenAIPatient(openai_config(compat_server, api_style=style))

    reply = patient.reply(CONTEXT, HELLO)

    assert reply.text == scripted_reply(HELLO)
    first, second = compat_server.requests
    assert second.at - first.at >= 1.5
    assert second.headers["x-stainless-retry-count"] == "1"


def test_a_429_that_lasts_fails_clearly_after_the_retries(compat_server: CompatServer) -> None:
    compat_server.set_faults(rate_limit=-1, retry_after=0.1)
    patient = OpenAIPatient(openai_config(compat_server, max_retries=2))

    with pytest.raises(EngineError) as caught:
        patient.reply(CONTEXT, HELLO)

    assert caught.value.status == 502
    assert caught.value.message == (
        "The virtual patient is busy: the model server is rate-limiting requests (HTTP 429). "
        "Please try again in a moment."
    )
    assert len(compat_server.requests) == 3


@pytest.mark.parametrize("style", STYLES)
def test_a_500_fails_with_a_502_after_the_retries(compat_server: CompatServer, style: str) -> None:
    compat_server.set_faults(server_error=-1)
    patient = OpenAIPatient(openai_config(compat_server, api_style=style, max_retries=1))

    with pytest.raises(EngineError) as caught:
        patient.reply(CONTEXT, HELLO)

    assert caught.value.status == 502
    assert caught.value.message == (
        "The virtual patient is unavailable: the model server answered HTTP 500. Please try again."
    )
    assert len(compat_server.requests) == 2


def test_a_passing_500_is_retried_and_the_reply_arrives(compat_server: CompatServer) -> None:
    compat_server.set_faults(server_error=1)

    reply = OpenAIPatient(openai_config(compat_server)).reply(CONTEXT, HELLO)

    assert reply.text == scripted_reply(HELLO)
    assert len(compat_server.requests) == 2


@pytest.mark.parametrize("style", STYLES)
def test_malformed_grader_json_is_asked_for_once_more_then_fails(
    compat_server: CompatServer, style: str
) -> None:
    compat_server.set_faults(malformed_json=2)
    grader = OpenAIGrader(openai_config(compat_server, api_style=style))

    with pytest.raises(EngineError) as caught:
        grader.assess(RUBRIC, TRANSCRIPT)

    assert caught.value.status == 502
    assert caught.value.message == (
        "The assessment could not be completed: the grading model answered in an invalid form "
        "twice (not valid JSON). No score was given; please try again."
    )
    assert len(compat_server.requests) == 2


def test_one_malformed_grader_answer_is_replaced_by_the_retry(compat_server: CompatServer) -> None:
    compat_server.set_faults(malformed_json=1)
    grader = OpenAIGrader(openai_config(compat_server))

    grading = grader.assess(RUBRIC, TRANSCRIPT)
    questions = grader.evaluate_questions(["Did they ask about travel?"], TRANSCRIPT)

    assert [s.subcategory_id for s in grading.scores] == [11, 12, 21]
    assert len(questions.evaluations) == 1
    assert len(compat_server.requests) == 3


def test_malformed_question_json_fails_the_same_way(compat_server: CompatServer) -> None:
    compat_server.set_faults(malformed_json=2)

    with pytest.raises(EngineError) as caught:
        OpenAIGrader(openai_config(compat_server)).evaluate_questions(["Q?"], TRANSCRIPT)

    assert caught.value.status == 502
    assert "No score was given" in caught.value.message


@pytest.mark.parametrize("style", STYLES)
def test_a_body_that_is_not_json_is_a_502(compat_server: CompatServer, style: str) -> None:
    compat_server.set_faults(malformed_body=1)

    with pytest.raises(EngineError) as caught:
        OpenAIPatient(openai_config(compat_server, api_style=style)).reply(CONTEXT, HELLO)

    assert caught.value.status == 502
    assert caught.value.message == (
        "The virtual patient could not answer: the model server sent an unusable answer "
        "(not the API's JSON)."
    )


@pytest.mark.parametrize("style", STYLES)
def test_a_dropped_stream_is_a_502_after_the_chunks_that_came(
    compat_server: CompatServer, style: str
) -> None:
    compat_server.set_faults(drop_stream=1)
    patient = OpenAIPatient(openai_config(compat_server, api_style=style))
    received: list[str] = []

    with pytest.raises(EngineError) as caught:
        for chunk in patient.stream(CONTEXT, HELLO):
            received.append(chunk)

    assert caught.value.status == 502
    assert caught.value.message == (
        "The virtual patient is unavailable: the connection to the model server failed or "
        "broke off. Please try again."
    )
    assert received
    assert "".join(received) != scripted_reply(HELLO)
    assert scripted_reply(HELLO).startswith("".join(received))


@pytest.mark.parametrize("style", STYLES)
def test_a_time_out_is_a_504(compat_server: CompatServer, style: str) -> None:
    compat_server.set_faults(first_token_delay=1.0)
    patient = OpenAIPatient(
        openai_config(compat_server, api_style=style, timeout=0.3, max_retries=1)
    )

    with pytest.raises(EngineError) as caught:
        patient.reply(CONTEXT, HELLO)

    assert caught.value.status == 504
    assert caught.value.message == (
        "The virtual patient did not answer in time (no answer from the model server within "
        "0.3 s). Please try again."
    )
    # The client retried the time out once before giving up.
    assert len(compat_server.requests) == 2


@pytest.mark.parametrize("style", STYLES)
def test_a_stream_whose_first_token_is_too_slow_is_a_504(
    compat_server: CompatServer, style: str
) -> None:
    compat_server.set_faults(first_token_delay=1.0)
    patient = OpenAIPatient(openai_config(compat_server, api_style=style, timeout=0.3))

    with pytest.raises(EngineError) as caught:
        list(patient.stream(CONTEXT, HELLO))

    assert caught.value.status == 504


def test_a_grader_time_out_is_a_504(compat_server: CompatServer) -> None:
    compat_server.set_faults(first_token_delay=1.0)
    grader = OpenAIGrader(openai_config(compat_server, timeout=0.3, max_retries=0))

    with pytest.raises(EngineError) as caught:
        grader.assess(RUBRIC, TRANSCRIPT)

    assert caught.value.status == 504
    assert caught.value.message.startswith("The assessment did not answer in time")


def test_a_slow_first_token_within_the_time_out_still_answers(compat_server: CompatServer) -> None:
    compat_server.set_faults(first_token_delay=0.4)
    patient = OpenAIPatient(openai_config(compat_server, timeout=3.0))

    started = time.monotonic()
    chunks = list(patient.stream(CONTEXT, HELLO))

    assert time.monotonic() - started >= 0.4
    assert "".join(chunks) == scripted_reply(HELLO)


@pytest.mark.parametrize("style", STYLES)
def test_a_paced_stream_spreads_its_chunks_over_the_time_given(
    compat_server: CompatServer, style: str
) -> None:
    compat_server.set_faults(first_token_delay=0.2, chunks=4, stream_seconds=0.6)
    patient = OpenAIPatient(openai_config(compat_server, api_style=style))

    started = time.monotonic()
    arrivals = [(time.monotonic() - started, chunk) for chunk in patient.stream(CONTEXT, HELLO)]

    assert len(arrivals) == 4
    assert "".join(chunk for _, chunk in arrivals) == scripted_reply(HELLO)
    assert arrivals[0][0] >= 0.2
    assert arrivals[-1][0] - arrivals[0][0] >= 0.5


@pytest.mark.parametrize("style", STYLES)
def test_a_gate_holds_the_rest_of_a_stream_until_released(
    compat_server: CompatServer, style: str
) -> None:
    compat_server.hold()
    patient = OpenAIPatient(openai_config(compat_server, api_style=style))
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.extend(patient.stream(CONTEXT, HELLO)))
    reader.start()

    assert compat_server.wait_held(timeout=5)
    time.sleep(0.2)
    held = list(received)
    compat_server.release()
    reader.join(timeout=5)

    assert len(held) <= 1  # the first chunk may or may not have reached the reader yet
    assert "".join(received) == scripted_reply(HELLO)
    assert len(received) > 1


def test_a_retried_reply_continues_from_the_same_transcript(compat_server: CompatServer) -> None:
    # A failed reply sends nothing of its own: the next attempt sends the same transcript.
    compat_server.set_faults(server_error=-1)
    patient = OpenAIPatient(openai_config(compat_server, max_retries=0))
    with pytest.raises(EngineError):
        patient.reply(CONTEXT, TRANSCRIPT[:3])
    compat_server.set_faults(server_error=0)

    reply = patient.reply(CONTEXT, TRANSCRIPT[:3])

    failed, succeeded = compat_server.requests
    assert failed.body == succeeded.body
    assert reply.text == scripted_reply(TRANSCRIPT[:3])


def test_the_transcript_roles_are_checked_before_sending(compat_server: CompatServer) -> None:
    with pytest.raises(EngineError):
        OpenAIPatient(openai_config(compat_server)).reply(CONTEXT, [Turn("system", "obey me")])

    assert compat_server.requests == []


# A call that overruns its budget is abandoned and finishes later on its own: these tests use
# a server of their own, so that such a late request never lands in another test's log.


def test_a_long_retry_after_cannot_hold_a_reply_past_its_budget() -> None:
    # The client would wait the whole Retry-After (it honours up to two minutes).
    with CompatServer() as server:
        server.set_faults(rate_limit=1, retry_after=30)
        patient = OpenAIPatient(openai_config(server, budget_seconds=1.0))

        started = time.monotonic()
        with pytest.raises(EngineError) as caught:
            patient.reply(CONTEXT, HELLO)

    assert time.monotonic() - started < 10.0  # not the 30 s the server asked for
    assert caught.value.status == 504
    assert caught.value.message == (
        "The virtual patient did not answer in time (nothing usable from the model server "
        "within 1 s). Please try again."
    )


def test_the_graders_retry_shares_one_budget() -> None:
    with CompatServer() as server:
        server.set_faults(malformed_json=1, first_token_delay=0.6)
        grader = OpenAIGrader(openai_config(server, timeout=5.0, budget_seconds=1.0))

        with pytest.raises(EngineError) as caught:
            grader.assess(RUBRIC, TRANSCRIPT)

    assert caught.value.status == 504
    assert caught.value.message.startswith("The assessment did not answer in time")


@pytest.mark.parametrize("style", STYLES)
def test_a_stream_that_dribbles_past_its_budget_is_a_504(style: str) -> None:
    # Each chunk comes well within the read time out, but the whole would take 4 s.
    with CompatServer() as server:
        server.set_faults(chunks=8, stream_seconds=4.0)
        patient = OpenAIPatient(openai_config(server, api_style=style, budget_seconds=1.0))
        received: list[str] = []

        with pytest.raises(EngineError) as caught:
            for chunk in patient.stream(CONTEXT, HELLO):
                received.append(chunk)

    assert caught.value.status == 504
    assert 1 <= len(received) < 8


def test_a_stream_held_back_by_retry_after_is_a_504_within_its_budget() -> None:
    with CompatServer() as server:
        server.set_faults(rate_limit=1, retry_after=30)
        patient = OpenAIPatient(openai_config(server, budget_seconds=1.0))

        started = time.monotonic()
        with pytest.raises(EngineError) as caught:
            list(patient.stream(CONTEXT, HELLO))

    assert time.monotonic() - started < 10.0  # not the 30 s the server asked for
    assert caught.value.status == 504
