"""A small OpenAI-compatible HTTP server answered by the scripted engines.

It speaks the real wire format — ``GET /v1/models``, ``POST /v1/chat/completions`` (JSON, and
Server-Sent Events chunks ending ``data: [DONE]`` with ``stream: true``) and ``POST
/v1/responses`` (JSON, and the Responses API's named events from ``response.created`` to
``response.completed``) — so that the product's ``openai`` engine can be tried with no key and
no network, and tested through the real ``openai`` client with no mock in place of HTTP.

It plays the patient and the grader from the tagged JSON blocks that ``prompts`` puts into
every request (the case sheet, the rubric, the transcript), with ``ScriptedPatient`` and
``ScriptedGrader``. Anything else is refused with 400: it is not a general language model.

Faults can be injected, per server, to see how the product copes with a bad model server:
429 with ``Retry-After``, 500, an answer that is not JSON, a body that is not JSON, a stream
cut off mid-way, a slow first token, a pace (N chunks over Y seconds) and a gate that holds a
stream after its first chunk until released. Start it with ``manage.py
serve_openai_compatible`` or, in tests, ``CompatServer(...).start()``.

Stdlib only (``http.server``): one thread per connection, HTTP/1.1 with keep-alive, streams in
chunked transfer encoding — so a stream cut off mid-way is a protocol error to the client, as
with a real server whose connection drops.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from practice.engines import prompts
from practice.engines.base import EngineError, GraderEngine, PatientEngine, Turn

log = logging.getLogger(__name__)

DEFAULT_MODEL = "practice-scripted"
# A held stream gives up after this long, so that a forgotten gate never hangs a thread.
GATE_TIMEOUT_SECONDS = 120.0
_CJK = "\u3000-\u9fff\uff00-\uffef"
_PIECE_RE = re.compile(rf"[{_CJK}]{{1,2}}|[^{_CJK}\s]+\s*|\s+")


@dataclass
class Faults:
    """What goes wrong, per server. Counts are "the next N requests" (-1: every request); a
    request takes at most one of 429, 500 and malformed body, in that order."""

    rate_limit: int = 0  # answer 429 with Retry-After
    retry_after: float = 1.0  # seconds, in the 429's Retry-After header
    server_error: int = 0  # answer 500
    malformed_body: int = 0  # answer 200 with a body that is not JSON
    malformed_json: int = 0  # the model's answer text is cut-off JSON (a grader's nightmare)
    drop_stream: int = 0  # close the connection after the first half of a stream's chunks
    first_token_delay: float = 0.0  # seconds before the first token (or a whole JSON answer)
    chunks: int = 0  # split a streamed answer into this many chunks (0: about a word each)
    stream_seconds: float = 0.0  # spread a stream's chunks evenly over this many seconds

    def take(self, name: str) -> bool:
        """Whether this request gets fault ``name``, counting it down."""
        left = getattr(self, name)
        if left == 0:
            return False
        if left > 0:
            setattr(self, name, left - 1)
        return True


@dataclass
class RecordedRequest:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class CompatServer:
    """The server, its faults and what it was asked. Thread-safe; ``start`` runs it in a
    background thread (tests), ``serve_forever`` in the calling one (the command)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        models: list[str] | None = None,
        faults: Faults | None = None,
        patient: PatientEngine | None = None,
        grader: GraderEngine | None = None,
        control: bool = False,
        max_recorded: int = 1000,
    ) -> None:
        """``models``: the names it answers to (none: any name); ``patient`` / ``grader``:
        the engines that answer (default: the scripted ones); ``control``: also serve the
        fault API over HTTP under ``/_control/`` (for a server in another process);
        ``max_recorded``: how many of the latest requests ``requests`` keeps."""
        self.models = list(models or [])
        self.max_recorded = max_recorded
        self.control = control
        self._patient = patient
        self._grader = grader
        self.faults = faults or Faults()
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._gate: threading.Event | None = None
        self._held = threading.Semaphore(0)
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.compat = self
        self._thread: threading.Thread | None = None
        self._serving = False

    # -- life -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """What ``OPENAI_BASE_URL`` is set to."""
        host = self._httpd.server_address[0]
        return f"http://{host}:{self.port}/v1"

    def start(self) -> CompatServer:
        self._serving = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="compat-server", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._serving = True
        self._httpd.serve_forever()

    def stop(self) -> None:
        self.release()
        if self._serving:
            # shutdown() waits for the serving loop: never call it when none was started.
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> CompatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the programmatic fault API ---------------------------------------------------------

    def set_faults(self, **changes: Any) -> None:
        """Change faults (``rate_limit=1, retry_after=0.5``); unknown names are an error."""
        with self._lock:
            for name, value in changes.items():
                if not hasattr(self.faults, name):
                    raise AttributeError(f"no fault named {name!r}")
                setattr(self.faults, name, value)

    def reset(self) -> None:
        """No faults, no gate, no recorded requests."""
        with self._lock:
            self.faults = Faults()
            self.requests.clear()
        self.release()

    def hold(self) -> None:
        """From now on, every stream stops after its first chunk until ``release``."""
        with self._lock:
            self._gate = threading.Event()

    def release(self) -> None:
        """Let held streams (and later ones) run to their end."""
        with self._lock:
            gate, self._gate = self._gate, None
        if gate is not None:
            gate.set()

    def wait_held(self, timeout: float = 10.0) -> bool:
        """Wait until a stream has sent its first chunk and is held at the gate."""
        return self._held.acquire(timeout=timeout)

    def _take(self, name: str) -> bool:
        with self._lock:
            return self.faults.take(name)

    def _setting(self, name: str) -> Any:
        with self._lock:
            return getattr(self.faults, name)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            if len(self.requests) > self.max_recorded:
                # A server left running for days keeps only its latest requests.
                del self.requests[: len(self.requests) - self.max_recorded]

    def _wait_at_gate(self) -> None:
        with self._lock:
            gate = self._gate
        if gate is None:
            return
        self._held.release()
        gate.wait(GATE_TIMEOUT_SECONDS)

    # -- the answers ------------------------------------------------------------------------

    def answer(self, instructions: str, turns: list[Turn]) -> str:
        """The scripted engines' answer to a request (raises ``EngineError`` when the
        request holds no practice block or the engine cannot answer)."""
        everything = "\n\n".join([instructions, *(t.content for t in turns)])
        try:
            grading = prompts.grading_request_from_text(everything)
        except (KeyError, TypeError, ValueError) as error:
            raise EngineError(
                f"The grading-task block is malformed ({error!r}).", status=400
            ) from None
        if grading is not None:
            grader = self._grader or _scripted_grader()
            task, transcript = grading
            if task["task"] == "assess":
                result = grader.assess(task["rubric"], transcript, language=task["language"])
                return prompts.grading_to_json(result)
            result = grader.evaluate_questions(
                task["questions"], transcript, language=task["language"]
            )
            return prompts.question_grading_to_json(result)
        context = prompts.patient_context_from_text(instructions)
        if context is None:
            raise EngineError(
                "This built-in server only plays the practice patient and grader: the "
                "instructions hold no practice block (patient-context, or grading-task and "
                "transcript).",
                status=400,
            )
        patient = self._patient or _scripted_patient()
        return patient.reply(context, turns).text


def _scripted_patient() -> PatientEngine:
    from practice.engines.scripted import ScriptedPatient

    return ScriptedPatient()


def _scripted_grader() -> GraderEngine:
    from practice.engines.scripted import ScriptedGrader

    return ScriptedGrader()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    compat: CompatServer


def _model(name: str) -> dict:
    return {"id": name, "object": "model", "created": 0, "owned_by": "practice"}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _by_role(instructions: list[str], messages: Iterable[dict]) -> tuple[str, list[Turn]]:
    """The instructions (system and developer messages after ``instructions``) and the turns;
    other roles are passed over."""
    turns = []
    for message in messages:
        role, text = message.get("role"), _text_of(message.get("content"))
        if role in ("system", "developer"):
            instructions.append(text)
        elif role in ("user", "assistant"):
            turns.append(Turn(role=role, content=text))
    return "\n\n".join(instructions), turns


def _chat_request(body: dict) -> tuple[str, list[Turn]]:
    return _by_role([], (m for m in body.get("messages") or [] if isinstance(m, dict)))


def _responses_request(body: dict) -> tuple[str, list[Turn]]:
    instructions = [body["instructions"]] if isinstance(body.get("instructions"), str) else []
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    messages = (
        i for i in items or [] if isinstance(i, dict) and i.get("type", "message") == "message"
    )
    return _by_role(instructions, messages)


def _pieces(text: str, count: int) -> list[str]:
    """``text`` in stream chunks: about a word (two CJK characters) each, or ``count`` chunks."""
    words = _PIECE_RE.findall(text) or [text]
    if count <= 0 or count >= len(words):
        return words
    size, extra = divmod(len(words), count)
    out, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        out.append("".join(words[start:end]))
        start = end
    return out


def _usage_counts(instructions: str, turns: list[Turn], text: str) -> tuple[int, int]:
    # Rough counts, as a model server reports them; nobody bills by these.
    prompt = len(instructions.split()) + sum(len(t.content.split()) for t in turns)
    return prompt, max(1, len(text.split()))


class _DroppedError(Exception):
    """The fault: the connection is closed mid-stream."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's algorithm and the
    # client's delayed ACK add the ACK's delay to every answer.
    disable_nagle_algorithm = True
    server: _HTTPServer
    server_version = "PracticeCompat/1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # -- routing ----------------------------------------------------------------------------

    def do_GET(self) -> None:  # http.server's name
        compat = self.server.compat
        if compat.control and self.path.rstrip("/") == "/_control/requests":
            with compat._lock:
                log_ = [
                    {"method": r.method, "path": r.path, "body": r.body} for r in compat.requests
                ]
            self._json(200, {"requests": log_})
            return
        compat._record(RecordedRequest("GET", self.path, {}, dict(self.headers)))
        path = self.path.split("?")[0].rstrip("/")
        names = compat.models or [DEFAULT_MODEL]
        if path == "/v1/models":
            self._json(200, {"object": "list", "data": [_model(n) for n in names]})
        elif path.startswith("/v1/models/"):
            name = urllib.parse.unquote(path.removeprefix("/v1/models/"))
            if compat.models and name not in compat.models:
                self._error(
                    404,
                    f"The model '{name}' does not exist.",
                    "invalid_request_error",
                    "model_not_found",
                )
            else:
                self._json(200, _model(name))
        else:
            self._error(404, f"Unknown path {self.path}", "invalid_request_error")

    def do_POST(self) -> None:
        compat = self.server.compat
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            compat._record(RecordedRequest("POST", self.path, {}, dict(self.headers)))
            self._error(400, "The request body is not a JSON object.", "invalid_request_error")
            return
        path = self.path.split("?")[0].rstrip("/")
        if compat.control and path.startswith("/_control/"):
            self._control(path.removeprefix("/_control/"), body)
            return
        compat._record(RecordedRequest("POST", self.path, body, dict(self.headers)))
        if path not in ("/v1/chat/completions", "/v1/responses"):
            self._error(404, f"Unknown path {self.path}", "invalid_request_error")
            return
        if compat._take("rate_limit"):
            retry_after = compat._setting("retry_after")
            self._error(
                429,
                "Rate limit reached (injected fault).",
                "rate_limit_error",
                headers={"Retry-After": f"{retry_after:g}"},
            )
            return
        if compat._take("server_error"):
            self._error(500, "The server had an error (injected fault).", "server_error")
            return
        model = str(body.get("model") or DEFAULT_MODEL)
        if compat.models and model not in compat.models:
            self._error(
                404,
                f"The model '{model}' does not exist.",
                "invalid_request_error",
                "model_not_found",
            )
            return
        if path == "/v1/chat/completions":
            instructions, turns = _chat_request(body)
        else:
            instructions, turns = _responses_request(body)
        try:
            text = compat.answer(instructions, turns)
        except EngineError as error:
            self._error(
                error.status if error.status < 500 else 400, error.message, "invalid_request_error"
            )
            return
        except Exception as error:
            # A fault of the engine, not of the request: a 500, as a real server would send.
            log.exception("the scripted engine failed")
            self._error(500, f"The scripted engine failed: {error!r}", "server_error")
            return
        if compat._take("malformed_json"):
            text = text[: max(1, len(text) // 2)] if text.startswith("{") else '{"scores": [{'
        if compat._take("malformed_body"):
            self._raw(200, b'{"id": "broken", "choices": [', "application/json")
            return
        answer = _Answer(model, instructions, turns, text)
        try:
            if body.get("stream"):
                self._stream(
                    path,
                    answer,
                    include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
                )
            else:
                delay = compat._setting("first_token_delay")
                if delay:
                    time.sleep(delay)
                payload = answer.chat() if path == "/v1/chat/completions" else answer.response()
                self._json(200, payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its time out): nothing left to tell it.
            self.close_connection = True

    def _control(self, action: str, body: dict) -> None:
        """The programmatic fault API over HTTP: ``faults`` (a JSON object of fault names and
        values), ``reset``, ``hold``, ``release``, ``wait_held`` (``{"timeout": s}``)."""
        compat = self.server.compat
        if action == "faults":
            try:
                compat.set_faults(**body)
            except (AttributeError, TypeError) as error:
                self._error(400, str(error), "invalid_request_error")
                return
        elif action == "reset":
            compat.reset()
        elif action == "hold":
            compat.hold()
        elif action == "release":
            compat.release()
        elif action == "wait_held":
            held = compat.wait_held(timeout=float(body.get("timeout", 10)))
            self._json(200, {"held": held})
            return
        else:
            self._error(404, f"Unknown control {action!r}", "invalid_request_error")
            return
        with compat._lock:
            faults = dict(vars(compat.faults))
        self._json(200, {"faults": faults})

    # -- streams ----------------------------------------------------------------------------

    def _stream(self, path: str, answer: _Answer, *, include_usage: bool) -> None:
        compat = self.server.compat
        pieces = _pieces(answer.text, compat._setting("chunks"))
        drop_after = max(1, len(pieces) // 2) if compat._take("drop_stream") else None
        events = (
            answer.chat_events(pieces, include_usage=include_usage)
            if path == "/v1/chat/completions"
            else answer.response_events(pieces)
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        delay = compat._setting("first_token_delay")
        seconds = compat._setting("stream_seconds")
        interval = seconds / max(1, len(pieces) - 1) if seconds else 0.0
        sent = 0
        try:
            for event_name, data, is_piece in events:
                if drop_after is not None and sent >= drop_after:
                    raise _DroppedError
                if is_piece:
                    if sent == 0 and delay:
                        time.sleep(delay)
                    elif sent > 0 and interval:
                        time.sleep(interval)
                frame = f"event: {event_name}\n" if event_name else ""
                frame += f"data: {data}\n\n"
                self._chunk(frame.encode())
                if is_piece:
                    sent += 1
                    if sent == 1:
                        compat._wait_at_gate()
        except _DroppedError:
            # No terminating chunk: the client sees the body end early, as when a connection
            # to a real model server drops.
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._chunk(b"")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    # -- plain answers ----------------------------------------------------------------------

    def _json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        self._raw(
            status, json.dumps(payload, ensure_ascii=False).encode(), "application/json", headers
        )

    def _raw(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _error(
        self,
        status: int,
        message: str,
        kind: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._json(
            status,
            {"error": {"message": message, "type": kind, "param": None, "code": code}},
            headers,
        )


@dataclass
class _Answer:
    """One answer in the wire's shapes: Chat Completions and Responses, whole or streamed."""

    model: str
    instructions: str
    turns: list[Turn]
    text: str
    created: int = field(default_factory=lambda: int(time.time()))
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:24])

    def _usage(self) -> tuple[int, int]:
        return _usage_counts(self.instructions, self.turns, self.text)

    # Chat Completions

    def chat(self) -> dict:
        prompt, completion = self._usage()
        return {
            "id": f"chatcmpl-{self.id}",
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
            "system_fingerprint": None,
        }

    def _chat_chunk(self, delta: dict, finish_reason: str | None) -> str:
        return json.dumps(
            {
                "id": f"chatcmpl-{self.id}",
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "system_fingerprint": None,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            },
            ensure_ascii=False,
        )

    def chat_events(
        self, pieces: list[str], *, include_usage: bool
    ) -> Iterator[tuple[str | None, str, bool]]:
        """(event name, data, is a piece of text) in the order the wire carries them."""
        yield None, self._chat_chunk({"role": "assistant", "content": ""}, None), False
        for piece in pieces:
            yield None, self._chat_chunk({"content": piece}, None), True
        yield None, self._chat_chunk({}, "stop"), False
        if include_usage:
            prompt, completion = self._usage()
            usage = {
                "id": f"chatcmpl-{self.id}",
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
            yield None, json.dumps(usage), False
        yield None, "[DONE]", False

    # Responses

    def _message(self, *, done: bool) -> dict:
        return {
            "id": f"msg_{self.id}",
            "type": "message",
            "role": "assistant",
            "status": "completed" if done else "in_progress",
            "content": [
                {"type": "output_text", "text": self.text, "annotations": [], "logprobs": []}
            ]
            if done
            else [],
        }

    def response(self, *, done: bool = True) -> dict:
        prompt, completion = self._usage()
        return {
            "id": f"resp_{self.id}",
            "object": "response",
            "created_at": self.created,
            "status": "completed" if done else "in_progress",
            "model": self.model,
            "instructions": self.instructions or None,
            "output": [self._message(done=True)] if done else [],
            "error": None,
            "incomplete_details": None,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "temperature": 1.0,
            "top_p": 1.0,
            "store": False,
            "text": {"format": {"type": "text"}},
            "usage": {
                "input_tokens": prompt,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": completion,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": prompt + completion,
            }
            if done
            else None,
        }

    def response_events(self, pieces: list[str]) -> Iterator[tuple[str | None, str, bool]]:
        sequence = iter(range(1_000_000))
        item_id = f"msg_{self.id}"

        def event(kind: str, is_piece: bool = False, **data: Any) -> tuple[str, str, bool]:
            payload = {"type": kind, "sequence_number": next(sequence), **data}
            return kind, json.dumps(payload, ensure_ascii=False), is_piece

        yield event("response.created", response=self.response(done=False))
        yield event("response.in_progress", response=self.response(done=False))
        yield event("response.output_item.added", output_index=0, item=self._message(done=False))
        empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        yield event(
            "response.content_part.added",
            item_id=item_id,
            output_index=0,
            content_index=0,
            part=empty,
        )
        for piece in pieces:
            yield event(
                "response.output_text.delta",
                True,
                item_id=item_id,
                output_index=0,
                content_index=0,
                delta=piece,
                logprobs=[],
            )
        yield event(
            "response.output_text.done",
            item_id=item_id,
            output_index=0,
            content_index=0,
            text=self.text,
            logprobs=[],
        )
        yield event(
            "response.content_part.done",
            item_id=item_id,
            output_index=0,
            content_index=0,
            part={**empty, "text": self.text},
        )
        yield event("response.output_item.done", output_index=0, item=self._message(done=True))
        yield event("response.completed", response=self.response(done=True))
