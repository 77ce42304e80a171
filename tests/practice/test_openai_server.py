"""The built-in OpenAI-compatible server on the wire: raw HTTP, the ``openai`` client, and the
``serve_openai_compatible`` command in its own process."""

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import openai
import pytest

from practice.engines.compat_server import CompatServer
from practice.engines.prompts import patient_instructions
from tests.practice.test_openai_engine import CONTEXT, TRANSCRIPT, scripted_reply

ROOT = Path(__file__).resolve().parents[2]
HELLO = TRANSCRIPT[:1]


def post(server: CompatServer, path: str, body: dict) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(
        f"{server.base_url}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer any"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def chat_body(**extra: object) -> dict:
    return {
        "model": "practice-scripted",
        "messages": [
            {"role": "system", "content": patient_instructions(CONTEXT)},
            {"role": "user", "content": HELLO[0].content},
        ],
        **extra,
    }


def sse_data(text: str) -> list[str]:
    return [line.removeprefix("data: ") for line in text.split("\n") if line.startswith("data: ")]


def test_chat_stream_is_sse_chunks_ending_with_done(compat_server: CompatServer) -> None:
    status, headers, text = post(compat_server, "/chat/completions", chat_body(stream=True))

    assert status == 200
    assert headers["Content-Type"].startswith("text/event-stream")
    data = sse_data(text)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert content == scripted_reply(HELLO)
    assert text.endswith("data: [DONE]\n\n")


def test_chat_stream_reports_usage_when_asked(compat_server: CompatServer) -> None:
    body = chat_body(stream=True, stream_options={"include_usage": True})

    data = sse_data(post(compat_server, "/chat/completions", body)[2])

    last = json.loads(data[-2])
    assert last["choices"] == []
    assert last["usage"]["total_tokens"] > 0


def test_chat_json_answer_has_the_api_shape(compat_server: CompatServer) -> None:
    status, headers, text = post(compat_server, "/chat/completions", chat_body())

    answer = json.loads(text)
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"] == {
        "role": "assistant",
        "content": scripted_reply(HELLO),
        "refusal": None,
    }
    assert answer["choices"][0]["finish_reason"] == "stop"


def test_responses_stream_sends_the_named_events_in_order(compat_server: CompatServer) -> None:
    body = {
        "model": "practice-scripted",
        "instructions": patient_instructions(CONTEXT),
        "input": [{"role": "user", "content": HELLO[0].content}],
        "stream": True,
    }

    status, _, text = post(compat_server, "/responses", body)

    assert status == 200
    events = [
        line.removeprefix("event: ") for line in text.split("\n") if line.startswith("event: ")
    ]
    payloads = [json.loads(d) for d in sse_data(text)]
    assert [p["type"] for p in payloads] == events
    kinds = [e for e in events if e != "response.output_text.delta"]
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [p["sequence_number"] for p in payloads] == list(range(len(payloads)))
    deltas = "".join(p["delta"] for p in payloads if p["type"] == "response.output_text.delta")
    assert deltas == scripted_reply(HELLO)
    assert payloads[-1]["response"]["status"] == "completed"
    assert "[DONE]" not in text


def test_responses_accepts_a_plain_text_input_and_parses_with_the_client(
    compat_server: CompatServer,
) -> None:
    client = openai.OpenAI(base_url=compat_server.base_url, api_key="any", max_retries=0)

    response = client.responses.create(
        model="practice-scripted",
        instructions=patient_instructions(CONTEXT),
        input=HELLO[0].content,
    )

    assert response.status == "completed"
    assert response.output_text == scripted_reply(HELLO)


def test_models_are_listed_for_the_client() -> None:
    with CompatServer(models=["qwen2.5:7b", "practice-scripted"]) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="any", max_retries=0)

        assert [m.id for m in client.models.list()] == ["qwen2.5:7b", "practice-scripted"]
        assert client.models.retrieve("qwen2.5:7b").id == "qwen2.5:7b"
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("gpt-5")


def test_a_request_without_a_practice_block_is_refused(compat_server: CompatServer) -> None:
    client = openai.OpenAI(base_url=compat_server.base_url, api_key="any", max_retries=0)

    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="practice-scripted", messages=[{"role": "user", "content": "Write a poem."}]
        )

    assert caught.value.body["message"].startswith(
        "This built-in server only plays the practice patient and grader"
    )


@pytest.mark.parametrize("path", ["/chat/completions", "/responses"])
def test_a_429_carries_retry_after_and_an_error_body(
    compat_server: CompatServer, path: str
) -> None:
    compat_server.set_faults(rate_limit=1, retry_after=2)

    code, headers, text = post(compat_server, path, chat_body())

    assert code == 429
    assert headers["Retry-After"] == "2"
    assert json.loads(text)["error"]["type"] == "rate_limit_error"


def test_an_unknown_path_is_404(compat_server: CompatServer) -> None:
    assert post(compat_server, "/assistants", {})[0] == 404


def test_a_long_running_server_keeps_only_its_latest_requests() -> None:
    with CompatServer(max_recorded=3) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="any", max_retries=0)
        for name in ("a", "b", "c", "d", "e"):
            client.models.retrieve(name)

        assert [r.path for r in server.requests] == [f"/v1/models/{n}" for n in "cde"]


def test_unknown_fault_names_are_refused(compat_server: CompatServer) -> None:
    with pytest.raises(AttributeError):
        compat_server.set_faults(explode=1)


@pytest.mark.slow
def test_the_command_serves_until_stopped() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "serve_openai_compatible",
            "--port",
            "0",
            "--server-error",
            "1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Serving an OpenAI-compatible API at http://127.0.0.1:")
        base_url = line.split(" at ")[1].split(" ")[0]
        client = openai.OpenAI(base_url=base_url, api_key="any", max_retries=0)

        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(**chat_body())
        answer = client.chat.completions.create(**chat_body())

        assert answer.choices[0].message.content == scripted_reply(HELLO)
    finally:
        process.terminate()
        process.wait(timeout=10)


def control(base_url: str, action: str, body: dict | None = None) -> dict:
    root = base_url.removesuffix("/v1")
    request = urllib.request.Request(
        f"{root}/_control/{action}",
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_a_server_in_another_process_is_driven_over_its_control_api() -> None:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve_openai_compatible", "--port", "0", "--control"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = process.stdout.readline().split(" at ")[1].split(" ")[0]
        client = openai.OpenAI(base_url=base_url, api_key="any", max_retries=0)

        assert (
            control(base_url, "faults", {"rate_limit": 1, "retry_after": 3})["faults"]["rate_limit"]
            == 1
        )
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(**chat_body())
        assert caught.value.response.headers["retry-after"] == "3"

        control(base_url, "hold")
        received: list[str] = []
        stream = client.chat.completions.create(**chat_body(stream=True))
        reader = threading.Thread(
            target=lambda: received.extend(
                c.choices[0].delta.content or "" for c in stream if c.choices
            )
        )
        reader.start()
        assert control(base_url, "wait_held", {"timeout": 5}) == {"held": True}
        assert reader.is_alive()
        control(base_url, "release")
        reader.join(timeout=5)

        assert "".join(received) == scripted_reply(HELLO)
        with urllib.request.urlopen(f"{base_url.removesuffix('/v1')}/_control/requests") as r:
            paths = [row["path"] for row in json.loads(r.read())["requests"]]
        assert paths == ["/v1/chat/completions", "/v1/chat/completions"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_control_api_is_off_unless_asked_for(compat_server: CompatServer) -> None:
    compat_server.set_faults(server_error=1)

    with pytest.raises(urllib.error.HTTPError) as caught:
        control(compat_server.base_url, "reset")

    assert caught.value.code == 404
    assert compat_server.faults.server_error == 1


def test_a_malformed_grading_block_is_a_400(compat_server: CompatServer) -> None:
    broken = '```json grading-task\n{"task": "assess", "rubric": [{"name": "no id"}]}\n```\n\n'
    broken += '```json transcript\n[{"index": 0, "role": "user", "content": "Hi"}]\n```'
    body = {"model": "m", "messages": [{"role": "user", "content": broken}]}

    status, _, text = post(compat_server, "/chat/completions", body)

    assert status == 400
    assert json.loads(text)["error"]["message"].startswith("The grading-task block is malformed")
